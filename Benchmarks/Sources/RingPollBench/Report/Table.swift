/// The one table: workloads as rows (a sub-row per figure), implementations as columns, every
/// figure followed by its ratio to the raw C epoll loop of the same rounds.
func renderTable(_ rows: [RowMeasurements]) -> String {
    let columns = Implementation.allCases
    let rowWidth = rows.map(\.title.count).max().map { max($0, 8) + 2 } ?? 30
    let metricWidth = 15
    let cellWidth = 19
    var lines: [String] = []
    var header = pad("workload", rowWidth) + pad("figure", metricWidth)
    for column in columns { header += pad(column.title, cellWidth) }
    lines.append(header)
    lines.append(String(repeating: "-", count: header.count))
    for row in rows {
        for (index, metric) in Metric.allCases.enumerated() {
            var line = pad(index == 0 ? row.title : "", rowWidth) + pad(metric.title, metricWidth)
            for column in columns {
                line += pad(cell(row, column, metric), cellWidth)
            }
            lines.append(line.trimmingTrailingSpaces())
        }
    }
    return lines.joined(separator: "\n")
}

private func cell(_ row: RowMeasurements, _ implementation: Implementation, _ metric: Metric) -> String {
    guard row.implementations.contains(implementation) else { return "–" }
    if row.failures[implementation] != nil { return "failed" }
    guard let value = row.value(implementation, metric) else { return "n/a" }
    var text = formatValue(value, metric)
    if let ratio = row.ratio(implementation, to: .reference, metric) {
        text += " " + formatRatio(ratio)
    }
    return text
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
