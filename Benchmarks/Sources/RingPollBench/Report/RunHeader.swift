import Foundation

/// What the report says about the run before its figures.
struct RunHeader {
    var date: String
    var command: String
    var machine: Machine
    var scale: Scale
    var settings: Settings
    var counting: ThreadCounting

    var text: String {
        var lines = [
            "ringpoll-bench — \(date) — \(command)",
            "machine: \(machine.summary)",
            "each cell: 1 untimed warm-up trial that also counts syscalls and mallocs, then \(settings.rounds) timed trial(s) of "
                + "\(formatSeconds(settings.plan.durationMilliseconds)) (after \(formatSeconds(settings.plan.warmupMilliseconds)) of warm-up), "
                + "implementations interleaved; figure = median over rounds; ×ratio = median of per-round ratios to C epoll",
            "server CPU/op: CPU time of the server thread(s) (schedstat) per operation; latency and ops/s: measured by the load process",
            "storm and idle scale use \(formatCount(scale.sockets)) sockets (asked: \(formatCount(Scale.asked)); "
                + "descriptor limit \(formatCount(scale.descriptorLimit)) minus \(formatCount(Scale.headroom)) headroom)",
        ]
        if let reason = counting.unavailableReason {
            lines.append("syscalls/op: n/a — \(reason)")
        } else {
            lines.append("syscalls/op: perf counter on raw_syscalls:sys_enter of the server thread(s), from the warm-up trial")
        }
        if let reason = counting.mallocsUnavailableReason {
            lines.append("mallocs/op: n/a — \(reason)")
        } else {
            lines.append("mallocs/op: perf counters on uprobes at glibc's malloc, calloc, realloc and aligned allocators, server thread(s), from the warm-up trial")
        }
        return lines.joined(separator: "\n")
    }

    private func formatSeconds(_ milliseconds: Int) -> String {
        String(format: "%.2g s", Double(milliseconds) / 1_000)
    }
}
