/// Command-line settings of a run.
struct Settings: Sendable {
    var quick = false
    var json = false
    /// Timed rounds per cell; every implementation runs once per round, interleaved.
    var rounds = 4
    var plan = TrialPlan(warmupMilliseconds: 200, durationMilliseconds: 1_000, countsSyscalls: false)
    /// The first, untimed trial of every cell: warms up and counts system calls.
    var countingPlan = TrialPlan(warmupMilliseconds: 200, durationMilliseconds: 300, countsSyscalls: true)
    var workloads = WorkloadKind.allCases
    /// Columns to run (the others show "–"); all by default. For profiling one implementation.
    var implementations = Implementation.allCases
    /// Row keys to run (e.g. `storm-19000`), nil for every row of the chosen workloads.
    var rowKeys: Set<String>?

    static let usage = """
        usage: ringpoll-bench [--quick] [--json] [--rounds N] [--seconds S] [--only LIST]
          --quick       2 rounds of 0.25 s per cell (under a minute)
          --json        print the results as JSON instead of the table
          --rounds N    timed rounds per cell (default 4)
          --seconds S   length of one timed trial (default 1.0)
          --only LIST   comma-separated workloads: \(WorkloadKind.allCases.map(\.rawValue).joined(separator: ","))
          --impls LIST  comma-separated implementations: \(Implementation.allCases.map(\.rawValue).joined(separator: ","))
          --rows LIST   comma-separated row keys, e.g. pingpong-100,storm-19000 (for profiling one row)
        """

    static func parse(_ arguments: [String]) throws(BenchError) -> Settings {
        var settings = Settings()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--quick":
                settings.quick = true
                settings.rounds = 2
                settings.plan = TrialPlan(warmupMilliseconds: 100, durationMilliseconds: 250, countsSyscalls: false)
                settings.countingPlan = TrialPlan(warmupMilliseconds: 100, durationMilliseconds: 100, countsSyscalls: true)
            case "--json":
                settings.json = true
            case "--rounds":
                guard let value = rest.popFirst().flatMap({ Int($0) }), value > 0 else { throw BenchError("--rounds needs a positive number") }
                settings.rounds = value
            case "--seconds":
                guard let value = rest.popFirst().flatMap({ Double($0) }), value > 0 else { throw BenchError("--seconds needs a positive number") }
                settings.plan.durationMilliseconds = Int(value * 1_000)
            case "--only":
                let names = (rest.popFirst() ?? "").split(separator: ",").map(String.init)
                let kinds = names.compactMap(WorkloadKind.init(rawValue:))
                guard !kinds.isEmpty, kinds.count == names.count else { throw BenchError("--only takes: \(WorkloadKind.allCases.map(\.rawValue).joined(separator: ","))") }
                settings.workloads = kinds
            case "--impls":
                let names = (rest.popFirst() ?? "").split(separator: ",").map(String.init)
                let kinds = names.compactMap(Implementation.init(rawValue:))
                guard !kinds.isEmpty, kinds.count == names.count else { throw BenchError("--impls takes: \(Implementation.allCases.map(\.rawValue).joined(separator: ","))") }
                settings.implementations = kinds
            case "--rows":
                let keys = (rest.popFirst() ?? "").split(separator: ",").map(String.init)
                guard !keys.isEmpty else { throw BenchError("--rows takes row keys such as pingpong-100,storm-1000") }
                settings.rowKeys = Set(keys)
            case "--help", "-h":
                throw BenchError(usage)
            default:
                throw BenchError("unknown argument \(argument)\n\(usage)")
            }
        }
        return settings
    }
}

/// The workloads, in the order of the table.
enum WorkloadKind: String, CaseIterable, Sendable {
    case pingpong, churn, storm, idle, wake
}
