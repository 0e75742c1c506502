/// Whether the poller is blocked in the kernel, and whether a change made for it still has to be
/// signalled through the wake eventfd.
///
/// Lives inside a selector's locked state; the eventfd write itself happens after unlocking. A
/// woken poller runs at once and needs the lock: writing while holding it would make the poller
/// spin or sleep on the lock (measured: 11× the latency when both threads share a CPU).
struct PollerWake {
    /// The poller is blocked in the kernel, or about to be.
    private(set) var isAsleep = false
    /// The eventfd was written (or will be) during this sleep: one write is enough.
    private var signalled = false
    /// A signal was decided under the lock and not yet taken by the caller.
    private var pending = false

    /// The poller is about to wait; `blocking` is false for a wait that cannot sleep.
    mutating func willWait(blocking: Bool) {
        isAsleep = blocking
        signalled = false
    }

    /// The poller is back from the kernel.
    mutating func didWait() {
        isAsleep = false
    }

    /// Something changed that the poller must see in its current wait.
    mutating func request() {
        guard isAsleep, !signalled else { return }
        signalled = true
        pending = true
    }

    /// Whether the caller must write the eventfd now that it has unlocked.
    mutating func takePendingSignal() -> Bool {
        defer { pending = false }
        return pending
    }
}
