import Foundation

/// How a figure of `metric` reads in the table.
func formatValue(_ value: Double, _ metric: Metric) -> String {
    switch metric {
    case .cpuPerOperation, .p50, .p99:
        return formatNanoseconds(value)
    case .operationsPerSecond:
        if value >= 1e6 { return String(format: "%.2fM", value / 1e6) }
        if value >= 1e3 { return String(format: "%.1fk", value / 1e3) }
        return String(format: "%.0f", value)
    case .syscallsPerOperation, .mallocsPerOperation:
        return String(format: "%.2f", value)
    }
}

func formatNanoseconds(_ value: Double) -> String {
    if value >= 1e6 { return String(format: "%.1fms", value / 1e6) }
    if value >= 1e4 { return String(format: "%.0fµs", value / 1e3) }
    if value >= 1e3 { return String(format: "%.2fµs", value / 1e3) }
    return String(format: "%.0fns", value)
}

func formatRatio(_ ratio: Double) -> String {
    String(format: "%.2f×", ratio)
}

/// Pads to `width` characters (µ and × count as one).
func pad(_ text: String, _ width: Int) -> String {
    let count = text.count
    return count >= width ? text : text + String(repeating: " ", count: width - count)
}
