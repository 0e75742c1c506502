import Benchmark

/// Steady-state benchmarks: no allocation at all. The static value (0) lives in
/// Thresholds/RingPollBenchmarks.<name>.p90.json; this says no deviation from it is tolerated.
func zeroMallocs() -> [BenchmarkMetric: BenchmarkThresholds] {
    [.mallocCountTotal: .init(relative: [.p90: 0], absolute: [.p90: 0])]
}
