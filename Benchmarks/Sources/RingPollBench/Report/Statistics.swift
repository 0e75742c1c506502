/// The middle value (mean of the two middle ones for an even count); nil for none.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

extension RowMeasurements {
    /// The figure of a cell: the median over the timed rounds, or the counting trial's value for
    /// system calls.
    func value(_ implementation: Implementation, _ metric: Metric) -> Double? {
        if metric.fromCountingTrial { return counting[implementation]?.value(of: metric) }
        return median(rounds.compactMap { $0[implementation]?.value(of: metric) })
    }

    /// `implementation`'s figure divided by `reference`'s, taken round by round (the two ran
    /// side by side) and then the median of those ratios.
    func ratio(_ implementation: Implementation, to reference: Implementation, _ metric: Metric) -> Double? {
        pairedRatio(self, implementation, self, reference, metric)
    }
}

/// The median over rounds of `a`'s figure over `b`'s figure, rounds paired by index (rows of one
/// workload run in the same rounds).
func pairedRatio(_ rowA: RowMeasurements, _ a: Implementation, _ rowB: RowMeasurements, _ b: Implementation, _ metric: Metric) -> Double? {
    if metric.fromCountingTrial {
        guard let x = rowA.counting[a]?.value(of: metric), let y = rowB.counting[b]?.value(of: metric), y > 0 else { return nil }
        return x / y
    }
    var ratios: [Double] = []
    for round in 0..<min(rowA.rounds.count, rowB.rounds.count) {
        if let x = rowA.rounds[round][a]?.value(of: metric), let y = rowB.rounds[round][b]?.value(of: metric), y > 0 {
            ratios.append(x / y)
        }
    }
    return median(ratios)
}
