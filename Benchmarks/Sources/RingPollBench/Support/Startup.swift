import Dispatch
import Synchronization

/// Hands one value (or an error) from a thread that is starting up to the thread waiting for it.
final class Startup<Value: Sendable>: Sendable {
    private let outcome = Mutex<Result<Value, BenchError>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func succeed(_ value: Value) {
        outcome.withLock { $0 = .success(value) }
        ready.signal()
    }

    func fail(_ error: BenchError) {
        outcome.withLock { $0 = .failure(error) }
        ready.signal()
    }

    /// Waits for `succeed` or `fail`, at most 30 seconds.
    func wait() throws(BenchError) -> Value {
        guard ready.wait(timeout: .now() + .seconds(30)) == .success else {
            throw BenchError("a server thread did not start within 30 s")
        }
        return try outcome.withLock { $0! }.get()
    }
}
