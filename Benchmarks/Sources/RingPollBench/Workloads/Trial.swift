/// How long one trial runs and whether it counts system calls and allocations.
struct TrialPlan: Sendable {
    var warmupMilliseconds: Int
    var durationMilliseconds: Int
    /// A counting trial: system calls are counted (which slows every system call a little), and
    /// its times are not used.
    var countsSyscalls: Bool
}

/// What one trial of one implementation measured.
struct TrialResult: Codable, Sendable {
    var operations: UInt64
    var elapsedNanoseconds: UInt64
    /// CPU time of the server's threads (schedstat), or of the storm's own thread.
    var serverCPUNanoseconds: UInt64
    var p50Nanoseconds: UInt64?
    var p99Nanoseconds: UInt64?
    var syscalls: UInt64?
    var mallocs: UInt64?

    func value(of metric: Metric) -> Double? {
        guard operations > 0 else { return nil }
        let ops = Double(operations)
        switch metric {
        case .cpuPerOperation: return Double(serverCPUNanoseconds) / ops
        case .operationsPerSecond:
            return elapsedNanoseconds > 0 ? ops / (Double(elapsedNanoseconds) / 1e9) : nil
        case .p50: return p50Nanoseconds.map { Double($0) }
        case .p99: return p99Nanoseconds.map { Double($0) }
        case .syscallsPerOperation: return syscalls.map { Double($0) / ops }
        case .mallocsPerOperation: return mallocs.map { Double($0) / ops }
        }
    }
}

/// The figures of the table, one sub-row each.
enum Metric: String, CaseIterable, Codable, Sendable {
    case cpuPerOperation = "server_cpu_ns_per_op"
    case operationsPerSecond = "ops_per_second"
    case p50 = "p50_ns"
    case p99 = "p99_ns"
    case syscallsPerOperation = "syscalls_per_op"
    case mallocsPerOperation = "mallocs_per_op"

    var title: String {
        switch self {
        case .cpuPerOperation: "server CPU/op"
        case .operationsPerSecond: "ops/s"
        case .p50: "p50 latency"
        case .p99: "p99 latency"
        case .syscallsPerOperation: "syscalls/op"
        case .mallocsPerOperation: "mallocs/op"
        }
    }

    /// Smaller is better for everything but throughput.
    var prefersLarger: Bool { self == .operationsPerSecond }

    /// Counts come from the counting trial; everything else from the timed rounds.
    var fromCountingTrial: Bool { self == .syscallsPerOperation || self == .mallocsPerOperation }
}
