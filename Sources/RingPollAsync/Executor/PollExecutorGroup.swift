import RingPoll
import Synchronization

/// Several `PollExecutor`s, one thread and one ring each, for servers that use more than one
/// core: `next()` hands them out in turn.
///
/// ```swift
/// let group = try PollExecutorGroup(threads: 2)
/// for executor in group.executors {                    // one listener per thread
///     let listener = try AsyncTCPListener.bind(address, reusePort: true, on: executor)
///     Task(executorPreference: executor) { for try await connection in listener { … } }
/// }
/// …
/// await group.shutdownGracefully()
/// ```
public final class PollExecutorGroup: Sendable {
    /// The executors, in the order `next()` hands them out.
    public let executors: [PollExecutor]
    private let turn = Atomic<Int>(0)

    /// Starts `threads` executors (at least 1) on `backend`. If one cannot start, those already
    /// started are shut down and its error is thrown.
    public init(threads: Int, backend: Backend = .automatic) throws(Errno) {
        var started: [PollExecutor] = []
        for index in 0..<Swift.max(1, threads) {
            do throws(Errno) {
                started.append(try PollExecutor(backend: backend, name: "RingPollExec\(index)"))
            } catch {
                for executor in started { executor.syncShutdownGracefully() }
                throw error
            }
        }
        executors = started
    }

    /// The next executor, round robin.
    public func next() -> PollExecutor {
        let index = turn.wrappingAdd(1, ordering: .relaxed).oldValue
        return executors[Int(UInt(bitPattern: index) % UInt(executors.count))]
    }

    /// Shuts every executor down (see `PollExecutor.shutdownGracefully()`) and returns when all
    /// their threads have ended. Callable from anywhere, also from a task on one of them.
    public func shutdownGracefully() async {
        await withTaskGroup(of: Void.self) { tasks in
            for executor in executors {
                tasks.addTask { await executor.shutdownGracefully() }
            }
        }
    }

    /// `shutdownGracefully()` for synchronous code; not on one of the group's threads.
    public func syncShutdownGracefully() {
        for executor in executors {
            precondition(!executor.isCurrent, "syncShutdownGracefully() on a thread of the group would wait for itself")
            executor.beginShutdown()
        }
        for executor in executors { executor.joinThread() }
    }
}
