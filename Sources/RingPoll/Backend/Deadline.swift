/// The end of a `poll` timeout on the monotonic clock, so that a poll which wakes up for an
/// internal reason can go back to sleep for exactly the time left.
struct Deadline {
    /// Monotonic nanoseconds at which the wait ends; `nil` waits forever.
    private let end: UInt64?

    init(timeout: Duration?) {
        guard let timeout else {
            end = nil
            return
        }
        end = MonotonicClock.now() &+ Deadline.nanoseconds(of: timeout)
    }

    /// Nanoseconds left to wait: -1 for forever, 0 once expired.
    func remainingNanoseconds() -> Int64 {
        guard let end else { return -1 }
        let now = MonotonicClock.now()
        return end > now ? Int64(clamping: end - now) : 0
    }

    var hasExpired: Bool { remainingNanoseconds() == 0 }

    /// A non-negative duration in nanoseconds, saturating (negative durations count as zero).
    static func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 || seconds > 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64(Int64.max) }
        let total = whole &+ UInt64(max(0, attoseconds) / 1_000_000_000)
        return min(total, UInt64(Int64.max))
    }
}
