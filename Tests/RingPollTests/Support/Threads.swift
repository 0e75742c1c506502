import Dispatch
import Glibc
import Synchronization

/// A real OS thread, joinable, so tests can make a thread exit and poll from another one.
final class TestThread<Result: Sendable>: @unchecked Sendable {
    private let body: @Sendable () -> Result
    private let result = Mutex<Result?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    private var handle = pthread_t()
    private var joined = false

    init(_ body: @escaping @Sendable () -> Result) {
        self.body = body
        handle = startThread(Unmanaged.passRetained(ThreadEntry(run)).toOpaque())
    }

    private func run() {
        let value = body()
        result.withLock { $0 = value }
        finished.signal()
    }

    /// A thread nobody joined is detached, so that its resources go when it ends (the body
    /// holds this object until then, so this runs once the body has finished).
    deinit {
        if !joined { pthread_detach(handle) }
    }

    /// The thread, for `pthread_kill`.
    var pthread: pthread_t { handle }

    /// Waits up to `limit` for the body to finish; `nil` if it has not (the thread keeps running).
    func result(within limit: Duration) -> Result? {
        let nanoseconds = Int(limit.components.seconds) * 1_000_000_000 + Int(limit.components.attoseconds / 1_000_000_000)
        guard finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return nil }
        finished.signal()
        return result.withLock { $0 }
    }

    /// Waits for the body and for the thread itself to exit.
    @discardableResult
    func join() -> Result {
        if !joined {
            pthread_join(handle, nil)
            joined = true
        }
        return result.withLock { $0! }
    }
}

/// Carries a value that is not `Sendable` (a `Poll`) to another thread. The tests hand it over
/// and never use it from two threads at once.
final class Handoff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Spins (yielding) until `condition` holds; false if `limit` passes first.
func waitUntil(within limit: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + limit
    while !condition() {
        if clock.now >= end { return false }
        sched_yield()
    }
    return true
}

/// The closure a new thread runs, boxed for pthread_create's context pointer.
private final class ThreadEntry {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

private func startThread(_ context: UnsafeMutableRawPointer) -> pthread_t {
    var handle = pthread_t()
    let created = pthread_create(&handle, nil, threadMain, context)
    precondition(created == 0, "pthread_create failed: \(created)")
    return handle
}

private func threadMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadEntry>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}
