/// The targets of issue 8, as ratios measured side by side in this run: the async RingPoll
/// server's CPU per operation against RingPoll's own poll-loop echo on the same backend, and its
/// throughput against SwiftNIO (both the handler pipeline and NIOAsyncChannel) at 100 connections.
func checkAsyncTargets(_ rows: [RowMeasurements]) -> [TargetCheck] {
    var checks: [TargetCheck] = []
    func ratioCheck(_ target: String, _ row: RowMeasurements, _ a: Implementation, _ b: Implementation,
                    _ metric: Metric, atMost limit: Double? = nil, atLeast floor: Double? = nil) {
        guard row.implementations.contains(a), row.implementations.contains(b) else { return }
        guard let ratio = row.ratio(a, to: b, metric) else {
            checks.append(TargetCheck(target: target, measured: "n/a", met: nil))
            return
        }
        let met = (limit.map { ratio <= $0 } ?? true) && (floor.map { ratio >= $0 } ?? true)
        checks.append(TargetCheck(target: target, measured: "\(formatRatio(ratio)) (\(row.title))", met: met))
    }
    for row in rows where row.key.hasPrefix("pingpong-") || row.key == "churn" {
        for async in [Implementation.asyncIOUring, .asyncEpoll] {
            guard let loop = async.pollLoopCounterpart else { continue }
            ratioCheck("\(async.title) CPU/op ≤ 1.15× \(loop.title)", row, async, loop, .cpuPerOperation, atMost: 1.15)
        }
    }
    if let row = rows.first(where: { $0.key == "pingpong-100" }) {
        for async in [Implementation.asyncIOUring, .asyncEpoll] {
            for nio in [Implementation.swiftNIO, .swiftNIOAsync] {
                ratioCheck("\(async.title) ≥ 1.5× \(nio.title) throughput", row, async, nio, .operationsPerSecond, atLeast: 1.5)
            }
        }
    }
    return checks
}
