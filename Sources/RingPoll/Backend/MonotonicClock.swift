import Glibc

/// Monotonic nanoseconds: what poll deadlines and event-loop timers are measured on, so that
/// setting the wall clock never makes a wait or a timer end early or late.
package enum MonotonicClock {
    package static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
