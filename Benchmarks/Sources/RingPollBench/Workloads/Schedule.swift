import Glibc

/// Everything measured for one row.
struct RowMeasurements: Sendable {
    let key: String
    let title: String
    let implementations: [Implementation]
    /// The counting (warm-up) trial of each implementation.
    var counting: [Implementation: TrialResult] = [:]
    /// Timed rounds; in each, every implementation ran once, in an order rotated per round.
    var rounds: [[Implementation: TrialResult]] = []
    /// Implementations that failed, with the reason.
    var failures: [Implementation: String] = [:]
}

/// Runs the rows of one workload: a counting trial per cell, then `rounds` timed rounds in which
/// every cell runs once, the order rotating from round to round so that no implementation
/// always runs first (or always right after another one).
func measure(_ rows: [WorkloadRow], settings: Settings, progress: (String) -> Void) -> [RowMeasurements] {
    var results = rows.map { row in
        RowMeasurements(key: row.key, title: row.title, implementations: row.implementations.filter(settings.implementations.contains))
    }
    var cells: [(row: Int, implementation: Implementation)] = []
    for (index, row) in rows.enumerated() {
        for implementation in row.implementations where settings.implementations.contains(implementation) {
            cells.append((index, implementation))
        }
    }
    func run(_ cell: (row: Int, implementation: Implementation), _ plan: TrialPlan, _ label: String) -> TrialResult? {
        guard results[cell.row].failures[cell.implementation] == nil else { return nil }
        progress("\(rows[cell.row].title) · \(cell.implementation.title) · \(label)")
        do throws(BenchError) {
            return try rows[cell.row].run(cell.implementation, plan)
        } catch {
            results[cell.row].failures[cell.implementation] = error.description
            progress("  failed: \(error)")
            return nil
        }
    }
    for cell in cells {
        if let result = run(cell, settings.countingPlan, "warm-up and syscall count") {
            results[cell.row].counting[cell.implementation] = result
        }
    }
    for round in 0..<settings.rounds {
        for row in results.indices { results[row].rounds.append([:]) }
        guard !cells.isEmpty else { break }
        let offset = (round * max(1, cells.count / settings.rounds)) % cells.count
        var order = Array(cells[offset...] + cells[..<offset])
        if round % 2 == 1 { order.reverse() }
        for cell in order {
            if let result = run(cell, settings.plan, "round \(round + 1)/\(settings.rounds)") {
                results[cell.row].rounds[round][cell.implementation] = result
            }
        }
    }
    return results
}
