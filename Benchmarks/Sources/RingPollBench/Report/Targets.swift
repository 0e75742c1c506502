import Foundation

/// One target of an issue, checked against this run.
struct TargetCheck: Codable, Sendable {
    let target: String
    let measured: String
    /// nil: not measurable by ringpoll-bench (or a figure is missing).
    let met: Bool?
}

/// Checks every target of the issue that this run measured.
func checkTargets(_ rows: [RowMeasurements]) -> [TargetCheck] {
    var checks: [TargetCheck] = []
    let row = { (key: String) in rows.first { $0.key == key } }
    func ratioCheck(_ target: String, _ row: RowMeasurements?, _ a: Implementation, _ b: Implementation,
                    _ metric: Metric, atMost limit: Double? = nil, atLeast floor: Double? = nil) {
        guard let row else { return }
        guard let ratio = row.ratio(a, to: b, metric) else {
            checks.append(TargetCheck(target: target, measured: "n/a", met: nil))
            return
        }
        let met = (limit.map { ratio <= $0 } ?? true) && (floor.map { ratio >= $0 } ?? true)
        checks.append(TargetCheck(target: target, measured: "\(formatRatio(ratio)) (\(row.title))", met: met))
    }
    // Issue 9: what users run (the harness's loop and the shipped example) against the raw loops.
    for key in ["pingpong-1", "pingpong-100", "pingpong-1000", "churn"] {
        for contender in [Implementation.ringPollIOUring, .exampleIOUring] {
            ratioCheck("\(contender.title) CPU/op ≤ 1.05× C io_uring", row(key), contender, .cIOUring, .cpuPerOperation, atMost: 1.05)
            ratioCheck("\(contender.title) CPU/op ≤ 1.05× C epoll", row(key), contender, .cEpoll, .cpuPerOperation, atMost: 1.05)
        }
        for contender in [Implementation.ringPollEpoll, .exampleEpoll] {
            ratioCheck("\(contender.title) CPU/op ≤ 1.05× C epoll", row(key), contender, .cEpoll, .cpuPerOperation, atMost: 1.05)
        }
    }
    ratioCheck("storm: RingPoll io_uring CPU/op within 10% of C io_uring", row("storm-1000"), .ringPollIOUring, .cIOUring, .cpuPerOperation, atMost: 1.10)
    for storm in rows where storm.key.hasPrefix("storm-") {
        ratioCheck("storm: RingPoll io_uring ≥ 3× RingPoll epoll throughput", storm, .ringPollIOUring, .ringPollEpoll, .operationsPerSecond, atLeast: 3.0)
        ratioCheck("storm: RingPoll io_uring ≥ 3× C epoll throughput", storm, .ringPollIOUring, .cEpoll, .operationsPerSecond, atLeast: 3.0)
    }
    for key in ["pingpong-100", "pingpong-1000"] {
        ratioCheck("RingPoll io_uring ≥ 1.25× SwiftNIO throughput", row(key), .ringPollIOUring, .swiftNIO, .operationsPerSecond, atLeast: 1.25)
        ratioCheck("RingPoll epoll ≥ 1.25× SwiftNIO throughput", row(key), .ringPollEpoll, .swiftNIO, .operationsPerSecond, atLeast: 1.25)
    }
    if let busy = rows.first(where: { $0.key.hasPrefix("idle-") && $0.key != "idle-0" }), let quiet = row("idle-0") {
        for implementation in busy.implementations {
            let target = "idle sockets do not change CPU/op (±5%): \(implementation.title)"
            guard let ratio = pairedRatio(busy, implementation, quiet, implementation, .cpuPerOperation) else {
                checks.append(TargetCheck(target: target, measured: "n/a", met: nil))
                continue
            }
            let met = abs(ratio - 1) <= 0.05
            checks.append(TargetCheck(target: target, measured: "\(formatRatio(ratio)) (\(busy.title) vs 0 idle)", met: met))
        }
    }
    checks.append(TargetCheck(target: "0 mallocs per steady-state poll", measured: "checked by `swift package benchmark thresholds check`", met: nil))
    return checks
}

func renderTargets(_ checks: [TargetCheck]) -> String {
    checks.map { check in
        let verdict = switch check.met {
        case true?: "met   "
        case false?: "MISSED"
        case nil: "  –   "
        }
        return "\(verdict)  \(check.target): \(check.measured)"
    }.joined(separator: "\n")
}
