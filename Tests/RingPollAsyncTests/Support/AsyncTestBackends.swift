import Glibc
import RingPoll
import RingPollAsync
import Testing

/// The backends every async test runs on: both, unless `RINGPOLL_BACKEND` pins one (CI runs
/// the suite once more with `RINGPOLL_BACKEND=epoll`), as `TestBackends` does for RingPoll.
enum AsyncTestBackends {
    static let all: [Backend] = {
        switch getenv("RINGPOLL_BACKEND").map({ String(cString: $0) }) {
        case "epoll": [.epoll]
        case "io_uring": [.ioUring]
        default: [.ioUring, .epoll]
        }
    }()
}

/// Runs `body` with a fresh executor on `backend` and shuts it down afterwards, so no test
/// leaves a thread behind.
func withExecutor<Result: Sendable>(
    _ backend: Backend, _ body: (PollExecutor) async throws -> Result
) async throws -> Result {
    let executor = try PollExecutor(backend: backend, name: "TestExec")
    #expect(executor.backend == backend)
    do {
        let result = try await body(executor)
        await executor.shutdownGracefully()
        return result
    } catch {
        await executor.shutdownGracefully()
        throw error
    }
}

/// Fails the test (instead of hanging it) when `operation` takes longer than `limit`.
func within<Result: Sendable>(
    _ limit: Duration, _ what: String = "operation",
    _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TimedOut(what: what, limit: limit)
        }
        group.cancelAll()
        return value
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    let limit: Duration
    var description: String { "\(what) did not finish within \(limit)" }
}
