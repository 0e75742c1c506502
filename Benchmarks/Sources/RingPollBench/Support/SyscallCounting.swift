import CMeasure
import Glibc

/// Counts the system calls of chosen threads with a perf counter on the raw_syscalls:sys_enter
/// tracepoint. Enabling that tracepoint slows every system call down a little, so counts are
/// taken in separate (warm-up) trials, never in the timed ones.
struct SyscallCounting: Sendable {
    /// The tracepoint id, or nil when counting is impossible here.
    let tracepointID: Int32?
    /// Why counting is impossible, or nil.
    let unavailableReason: String?

    static func probe() -> SyscallCounting {
        var reason = [CChar](repeating: 0, count: 256)
        let id = rpm_syscall_tracepoint_id(&reason, Int32(reason.count))
        guard id > 0 else {
            return SyscallCounting(tracepointID: nil, unavailableReason: String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        // A tracepoint counter needs CAP_PERFMON (or a permissive perf_event_paranoid): try one.
        let fd = rpm_syscall_counter_open(id, 0)
        guard fd >= 0 else {
            return SyscallCounting(tracepointID: nil, unavailableReason: "perf_event_open: \(String(cString: strerror(-fd)))")
        }
        close(fd)
        return SyscallCounting(tracepointID: id, unavailableReason: nil)
    }

    /// Started counters for `threads` (0: the calling thread), or nil when counting is impossible.
    func start(threads: [pid_t]) -> SyscallCounters? {
        guard let tracepointID else { return nil }
        var descriptors: [Int32] = []
        for thread in threads {
            let fd = rpm_syscall_counter_open(tracepointID, thread)
            guard fd >= 0 else {
                descriptors.forEach { close($0) }
                return nil
            }
            descriptors.append(fd)
        }
        descriptors.forEach { rpm_counter_start($0) }
        return SyscallCounters(descriptors: descriptors)
    }
}

/// Running counters; `stop` returns the total and closes them.
struct SyscallCounters {
    let descriptors: [Int32]

    func stop() -> UInt64? {
        var total: UInt64 = 0
        var valid = true
        for fd in descriptors {
            rpm_counter_stop(fd)
            let value = rpm_counter_read(fd)
            if value == UInt64.max { valid = false } else { total += value }
            close(fd)
        }
        return valid ? total : nil
    }
}
