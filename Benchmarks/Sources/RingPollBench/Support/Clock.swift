import CMeasure
import Glibc

/// Monotonic nanoseconds.
func nowNanoseconds() -> UInt64 { rpm_now_ns() }

/// Sleeps for about `nanoseconds` (timer slack is lowered at startup, so short sleeps are short).
func sleep(nanoseconds: UInt64) {
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}

/// Makes this thread's short sleeps precise (the default slack adds 50 µs to each).
func lowerTimerSlack() {
    rpm_lower_timer_slack()
}
