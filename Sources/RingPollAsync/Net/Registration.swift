import RingPoll
import Synchronization

/// What one attempt of an operation achieved.
enum Attempt<Value> {
    /// Finished.
    case done(Value)
    /// Finished, and the socket is drained in this direction (a short read): the next operation
    /// waits for the next edge instead of trying a system call that would say would-block.
    case doneDrained(Value)
    /// Not finished (a short write): wait for the next edge, then try again.
    case again
}

/// The link between an async socket and its executor's socket table.
///
/// Registration is lazy: the first operation, on the executor thread, takes a slot and
/// registers the socket (edge-triggered) with the slot's token, so sockets can be made on any
/// thread without a hop. Closing or dropping the socket releases the slot: on the executor
/// thread through its request list, from elsewhere through the inbox.
final class Registration: Sendable {
    let executor: PollExecutor
    private let source: any Source & Sendable
    private let interests: Interest
    /// `generation << 32 | slot` once registered; or one of the two markers below.
    private let state = Atomic<UInt64>(Registration.unregistered)

    private static let unregistered = UInt64.max
    private static let released = UInt64.max - 1

    init(_ source: some Source & Sendable, interests: Interest, executor: PollExecutor) {
        self.source = source
        self.interests = interests
        self.executor = executor
    }

    deinit {
        release()
    }

    /// The socket's slot, registering it first if needed. Executor thread only. Throws
    /// `Errno.badFileDescriptor` once released (closed), and registration errors.
    func slot() throws(Errno) -> (slot: UInt32, generation: UInt32) {
        let current = state.load(ordering: .acquiring)
        if current < Registration.released {
            return (UInt32(truncatingIfNeeded: current), UInt32(truncatingIfNeeded: current >> 32))
        }
        if current == Registration.released { throw .badFileDescriptor }
        let core = executor.core
        let (slot, generation) = core.io.allocate()
        do throws(Errno) {
            try core.registry.register(source, token: ExecutorCore.token(slot: slot, generation: generation), interests: interests)
        } catch {
            core.io.release(slot, generation)
            throw error
        }
        let packed = UInt64(generation) << 32 | UInt64(slot)
        guard state.compareExchange(expected: Registration.unregistered, desired: packed, ordering: .acquiringAndReleasing).exchanged else {
            core.io.release(slot, generation)  // closed meanwhile on another thread
            throw .badFileDescriptor
        }
        return (slot, generation)
    }

    /// Frees the slot (once): the tasks waiting on the socket resume with `Errno.badFileDescriptor`.
    func release() {
        let previous = state.exchange(Registration.released, ordering: .acquiringAndReleasing)
        guard previous < Registration.released else { return }
        executor.post(.release(slot: UInt32(truncatingIfNeeded: previous), generation: UInt32(truncatingIfNeeded: previous >> 32)))
    }

    /// Runs one operation in `direction` on the executor thread: waits for its turn, then tries
    /// `attempt` whenever the direction is ready, waiting for the next readiness edge after a
    /// would-block (or `.again`), until it finishes or fails.
    ///
    /// Throws `attempt`'s `Errno`, `Errno.badFileDescriptor` when the socket is closed, and
    /// `CancellationError` when the task is cancelled while it waits or the executor shuts down.
    nonisolated(nonsending)
    func perform<Value>(_ direction: Direction, _ attempt: () throws(Errno) -> Attempt<Value>) async throws -> Value {
        let (slot, generation) = try self.slot()
        let io = executor.core.io
        // Free direction: taken without calling an async function (a call into one that takes an
        // `isolated` parameter costs the runtime an executor check, with a lock on the task's
        // status records, per call).
        if !io.tryAcquire(slot, direction) {
            try await executor.waitForTurn(slot, generation, direction).check()
        }
        defer { io.release(slot, generation, direction) }
        while true {
            assert(executor.isCurrent, "a socket operation resumed off its executor's thread")
            guard io.isLive(slot, generation) else { throw Errno.badFileDescriptor }
            if io.isReady(slot, direction) {
                switch try Registration.attemptOnce(attempt) {
                case .done(let value):
                    return value
                case .doneDrained(let value):
                    io.clearReadiness(slot, direction)
                    return value
                case .again:
                    io.clearReadiness(slot, direction)
                }
            }
            try await executor.waitForReadiness(slot, generation, direction).check()
        }
    }

    /// One attempt, a would-block turned into `.again`. (A helper function: Swift 6.3.1 has
    /// crashed compiling a `catch … where` that returns.)
    private static func attemptOnce<Value>(_ attempt: () throws(Errno) -> Attempt<Value>) throws(Errno) -> Attempt<Value> {
        do {
            return try attempt()
        } catch {
            if error == .wouldBlock { return .again }
            throw error
        }
    }
}
