import RingPoll

/// Monotonic nanoseconds (CLOCK_MONOTONIC), the clock that poll timeouts run on: sleeps are
/// measured on it, so changing the wall clock never ends one early or late.
enum MonotonicTime {
    /// Now, on the clock RingPoll's own deadlines use.
    static func now() -> UInt64 { MonotonicClock.now() }

    /// `duration` in whole nanoseconds, rounded up (a sleep is never shorter than asked);
    /// negative durations count as zero.
    static func nanoseconds(of duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, !(seconds == 0 && attoseconds <= 0) else { return 0 }
        let (wholeNanoseconds, remainder) = attoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
        let fromSeconds = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !fromSeconds.overflow else { return UInt64.max / 2 }
        return fromSeconds.partialValue &+ UInt64(wholeNanoseconds) &+ (remainder > 0 ? 1 : 0)
    }
}
