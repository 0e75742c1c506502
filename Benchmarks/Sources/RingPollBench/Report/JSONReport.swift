import Foundation

/// The `--json` document.
struct JSONReport: Codable {
    struct Cell: Codable {
        var implementation: String
        var figures: [String: Double] = [:]
        var ratiosToCEpoll: [String: Double] = [:]
        var failure: String?
        var countingTrial: TrialResult?
        var rounds: [TrialResult] = []
    }

    struct Row: Codable {
        var key: String
        var title: String
        var cells: [Cell]
    }

    var date: String
    var command: String
    var machine: Machine
    var scale: Scale
    var rounds: Int
    var trialMilliseconds: Int
    var syscallCounting: String
    var mallocCounting: String
    var rows: [Row]
    var targets: [TargetCheck]

    init(header: RunHeader, rows measured: [RowMeasurements], targets: [TargetCheck]) {
        date = header.date
        command = header.command
        machine = header.machine
        scale = header.scale
        rounds = header.settings.rounds
        trialMilliseconds = header.settings.plan.durationMilliseconds
        syscallCounting = header.counting.unavailableReason.map { "unavailable: \($0)" } ?? "perf raw_syscalls:sys_enter"
        mallocCounting = header.counting.mallocsUnavailableReason.map { "unavailable: \($0)" } ?? "perf uprobes on glibc allocation functions"
        self.targets = targets
        rows = measured.map { row in
            Row(key: row.key, title: row.title, cells: row.implementations.map { implementation in
                var cell = Cell(implementation: implementation.rawValue)
                cell.failure = row.failures[implementation]
                cell.countingTrial = row.counting[implementation]
                cell.rounds = row.rounds.compactMap { $0[implementation] }
                for metric in Metric.allCases {
                    if let value = row.value(implementation, metric) { cell.figures[metric.rawValue] = value }
                    if let ratio = row.ratio(implementation, to: .reference, metric) { cell.ratiosToCEpoll[metric.rawValue] = ratio }
                }
                return cell
            })
        }
    }

    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
