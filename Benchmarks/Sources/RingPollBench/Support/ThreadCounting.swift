import CMeasure
import Glibc

/// What the counting trial counts for chosen threads, of this process or another: system calls
/// (a perf counter on the raw_syscalls:sys_enter tracepoint) and heap allocations (perf counters
/// on uprobes at glibc's allocation functions). Both slow the counted calls down, so counts are
/// taken in separate (warm-up) trials, never in the timed ones.
struct ThreadCounting: Sendable {
    /// The tracepoint id, or nil when system calls cannot be counted here.
    let tracepointID: Int32?
    /// Why system calls cannot be counted, or nil.
    let unavailableReason: String?
    /// Why allocations cannot be counted, or nil.
    let mallocsUnavailableReason: String?

    static func probe() -> ThreadCounting {
        var reason = [CChar](repeating: 0, count: 256)
        let mallocs = rpm_malloc_probes_prepare(&reason, Int32(reason.count)) > 0 ? nil : text(reason)
        let id = rpm_syscall_tracepoint_id(&reason, Int32(reason.count))
        guard id > 0 else {
            return ThreadCounting(tracepointID: nil, unavailableReason: text(reason), mallocsUnavailableReason: mallocs)
        }
        // A tracepoint counter needs CAP_PERFMON (or a permissive perf_event_paranoid): try one.
        let fd = rpm_syscall_counter_open(id, 0)
        guard fd >= 0 else {
            return ThreadCounting(tracepointID: nil, unavailableReason: "perf_event_open: \(String(cString: strerror(-fd)))",
                                  mallocsUnavailableReason: mallocs)
        }
        close(fd)
        return ThreadCounting(tracepointID: id, unavailableReason: nil, mallocsUnavailableReason: mallocs)
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Started counters for `threads` (0: the calling thread); either kind is nil when it cannot
    /// be counted.
    func start(threads: [pid_t]) -> RunningCounters {
        var syscalls: [Int32]? = tracepointID == nil ? nil : []
        var mallocs: [Int32]? = mallocsUnavailableReason == nil ? [] : nil
        for thread in threads {
            if let tracepointID, syscalls != nil {
                let fd = rpm_syscall_counter_open(tracepointID, thread)
                if fd >= 0 { syscalls!.append(fd) } else { RunningCounters.close(&syscalls) }
            }
            if mallocs != nil {
                var fds = [Int32](repeating: -1, count: Int(RPM_MALLOC_COUNTERS))
                if rpm_malloc_counters_open(thread, &fds) > 0 { mallocs!.append(contentsOf: fds) } else { RunningCounters.close(&mallocs) }
            }
        }
        for fd in (syscalls ?? []) + (mallocs ?? []) { rpm_counter_start(fd) }
        return RunningCounters(syscalls: syscalls, mallocs: mallocs)
    }
}

/// Running counters; `stop` returns the totals and closes them.
struct RunningCounters {
    let syscalls: [Int32]?
    let mallocs: [Int32]?

    func stop() -> (syscalls: UInt64?, mallocs: UInt64?) {
        (RunningCounters.total(syscalls), RunningCounters.total(mallocs))
    }

    private static func total(_ descriptors: [Int32]?) -> UInt64? {
        guard let descriptors else { return nil }
        var total: UInt64 = 0
        var valid = true
        for fd in descriptors {
            rpm_counter_stop(fd)
            let value = rpm_counter_read(fd)
            if value == UInt64.max { valid = false } else { total += value }
            Glibc.close(fd)
        }
        return valid ? total : nil
    }

    fileprivate static func close(_ descriptors: inout [Int32]?) {
        descriptors?.forEach { _ = Glibc.close($0) }
        descriptors = nil
    }
}
