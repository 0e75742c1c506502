/// One row of the table: a workload variant and the implementations that run it.
struct WorkloadRow {
    /// Stable identifier, for JSON and the target checks, e.g. `pingpong-100`.
    let key: String
    /// What the table shows, e.g. `ping-pong, 100 conns`.
    let title: String
    let implementations: [Implementation]
    let run: (Implementation, TrialPlan) throws(BenchError) -> TrialResult
}

/// Sizes that depend on the machine: the descriptor budget of this process.
struct Scale: Codable, Sendable {
    /// What the issue asks for: 100,000 socketpairs in the storm, 100,000 idle sockets.
    static let asked = 100_000
    /// Descriptors left for everything else (listener, rings, pipes, the active connections).
    static let headroom = 1_000

    var descriptorLimit: Int
    /// Registered descriptors in the storm and idle sockets in the idle-scale workload.
    var sockets: Int

    init(descriptorLimit: Int) {
        self.descriptorLimit = descriptorLimit
        sockets = max(2, min(Scale.asked, descriptorLimit - Scale.headroom)) / 2 * 2
    }
}

/// Builds the rows of a workload; resources the rows share live as long as the rows.
func makeRows(_ kind: WorkloadKind, scale: Scale, counting: ThreadCounting) throws(BenchError) -> [WorkloadRow] {
    let all = Implementation.allCases
    // The shipped example (a process of its own) and the async servers run the TCP echo rows only.
    let inProcess = all.filter { !$0.servesEchoOnly }
    let withoutNIO = inProcess.filter { $0 != .swiftNIO }
    switch kind {
    case .pingpong:
        return [1, 100, 1_000].map { connections in
            WorkloadRow(key: "pingpong-\(connections)", title: "ping-pong, \(connections) conn\(connections == 1 ? "" : "s")",
                        implementations: all) { (implementation, plan) throws(BenchError) in
                try runEchoTrial(implementation, mode: .pingpong, connections: connections, idleSockets: 0, plan: plan, counting: counting)
            }
        }
    case .churn:
        return [WorkloadRow(key: "churn", title: "churn (connect, echo, close), 8 at a time", implementations: all) {
            (implementation, plan) throws(BenchError) in
            try runEchoTrial(implementation, mode: .churn, connections: 8, idleSockets: 0, plan: plan, counting: counting)
        }]
    case .storm:
        // The largest count that fits, and 1,000 (io_uring's cancel-by-user_data lookup walks a
        // hash bucket whose length grows with the number of armed polls).
        let sockets = try StormSockets(count: scale.sockets)
        return [min(1_000, scale.sockets), scale.sockets].map { count in
            WorkloadRow(key: "storm-\(count)", title: "register+deregister storm, \(formatCount(count)) sockets",
                        implementations: withoutNIO) { (implementation, plan) throws(BenchError) in
                try runStormTrial(implementation, sockets: sockets, count: count, plan: plan, counting: counting)
            }
        }
    case .idle:
        return [0, scale.sockets].map { idle in
            WorkloadRow(key: "idle-\(idle)", title: "ping-pong, 1 conn + \(formatCount(idle)) idle", implementations: withoutNIO) {
                (implementation, plan) throws(BenchError) in
                try runEchoTrial(implementation, mode: .pingpong, connections: 1, idleSockets: idle, plan: plan, counting: counting)
            }
        }
    case .wake:
        return [false, true].map { sameCPU in
            WorkloadRow(key: sameCPU ? "wake-same-cpu" : "wake", title: sameCPU ? "cross-thread wake, both on CPU 0" : "cross-thread wake",
                        implementations: inProcess) { (implementation, plan) throws(BenchError) in
                try runWakeTrial(implementation, sameCPU: sameCPU, plan: plan, counting: counting)
            }
        }
    }
}

/// 19000 → "19,000".
func formatCount(_ value: Int) -> String {
    let digits = String(value)
    var result = ""
    for (index, character) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(character)
    }
    return result
}
