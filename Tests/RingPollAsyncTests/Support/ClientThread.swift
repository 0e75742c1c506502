import Dispatch
import RingPollAsync
import Glibc
import RingPoll
import Synchronization
@testable import AsyncEchoServer

/// A plain OS thread for the client side of a test, so that clients never share (or wait on)
/// the executor under test, and their work is not Swift concurrency work.
final class ClientThread<Result: Sendable>: @unchecked Sendable {
    private final class Outcome: Sendable {
        let value = Mutex<Result?>(nil)
    }
    private let outcome = Outcome()
    private let finished = DispatchSemaphore(value: 0)
    private var handle = pthread_t()

    init(_ body: @escaping @Sendable () -> Result) {
        let outcome = self.outcome, finished = self.finished
        let entry = ClientEntry {
            let value = body()
            outcome.value.withLock { $0 = value }
            finished.signal()
        }
        handle = startClientThread(Unmanaged.passRetained(entry).toOpaque())
    }

    /// The body's result, or nil if it has not finished within `limit` (the thread is then
    /// left running; its loops are bounded by deadlines of their own).
    func result(within limit: Duration) -> Result? {
        let nanoseconds = Int(limit.components.seconds) * 1_000_000_000 + Int(limit.components.attoseconds / 1_000_000_000)
        guard finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return nil }
        pthread_join(handle, nil)
        return outcome.value.withLock { $0 }
    }

    /// Waits without blocking the caller's executor thread (a cooperative-pool thread polls).
    ///
    /// The polling task runs on the global executor, whose threads other (synchronous, blocking)
    /// tests of the suite may hold for seconds: the result is checked once more after the
    /// deadline, so a late wake-up of this task is not taken for a thread that did not finish.
    func value(within limit: Duration) async -> Result? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while true {
            if finished.wait(timeout: .now()) == .success {
                pthread_join(handle, nil)
                return outcome.value.withLock { $0 }
            }
            if clock.now >= end { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

private final class ClientEntry {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

private func startClientThread(_ context: UnsafeMutableRawPointer) -> pthread_t {
    var handle = pthread_t()
    let created = pthread_create(&handle, nil, clientThreadMain, context)
    precondition(created == 0, "pthread_create failed: \(created)")
    return handle
}

private func clientThreadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ClientEntry>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}

/// Retries `Errno.interrupted` (a ring closed on another thread of the process can end a wait
/// of this one; see RingPoll's docs/DESIGN.md).
func pollRetrying(_ poll: Poll, _ events: inout Events, timeout: Duration?) throws(Errno) {
    while true {
        do throws(Errno) {
            try poll.poll(&events, timeout: timeout)
            return
        } catch {
            if error != .interrupted { throw error }
        }
    }
}

/// `read` that returns nil for would-block.
func readUnlessWouldBlock(_ stream: TCPStream, _ buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int? {
    do {
        return try stream.read(into: buffer)
    } catch {
        if error == .wouldBlock { return nil }
        throw error
    }
}

/// `write` that returns 0 for would-block.
func writeUnlessWouldBlock(_ stream: TCPStream, _ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
    do {
        return try stream.write(buffer)
    } catch {
        if error == .wouldBlock { return 0 }
        throw error
    }
}

/// Starts the example's echo service (the same code as `async-echo-server`) on `executor`.
func startEchoServer(on executor: PollExecutor) throws -> (AsyncTCPListener, Task<Void, Never>) {
    let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
    let task = Task(executorPreference: executor) { await EchoService.serve(listener) }
    return (listener, task)
}
