import CMeasure
import Dispatch
import RingPoll
import RingPollAsync
import Synchronization

/// The async echo server as the example runs it: `EchoService` (AsyncEchoService.swift is a
/// link to Examples/AsyncEchoServer/EchoService.swift, so this is the example's own code) on one
/// `PollExecutor`, one task per connection. The server's CPU time is the executor thread's.
final class AsyncEchoBenchServer: EchoServer {
    let port: UInt16
    let threadIDs: [pid_t]
    private let executor: PollExecutor
    private let listener: AsyncTCPListener
    private let serving: Task<Void, Never>

    init(backend: Backend) throws(BenchError) {
        do throws(Errno) {
            executor = try PollExecutor(backend: backend, name: "AsyncEchoBench")
            listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            port = try listener.localAddress().port
        } catch {
            throw BenchError("RingPoll async \(backend) echo server: \(error)")
        }
        threadIDs = [AsyncEchoBenchServer.threadID(of: executor)]
        let listener = self.listener
        serving = Task(executorPreference: executor) { await EchoService.serve(listener) }
    }

    /// The kernel thread id of the executor's thread (asked from a task running there).
    private static func threadID(of executor: PollExecutor) -> pid_t {
        let answer = Mutex<pid_t>(0)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            answer.withLock { $0 = rpm_gettid() }
            done.signal()
        }
        done.wait()
        return answer.withLock { $0 }
    }

    func stop() {
        try? listener.close()
        executor.syncShutdownGracefully()  // ends the connections' waits, joins the thread
    }
}
