import Benchmark

// RingPoll's package-benchmark suite: `swift package benchmark` in Benchmarks/.
// Every benchmark runs on both backends. Steady-state benchmarks carry a static threshold of
// 0 mallocs (Benchmarks/Thresholds/), checked by `swift package benchmark thresholds check`.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, SyscallMetric.metric],
        timeUnits: .nanoseconds,
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 1_000
    )
    for backend in BenchBackend.allCases {
        for ready in [1, 64, 1_024] {
            registerPollReady(backend, sources: ready)
        }
        registerStorm(backend)
        registerWakerRoundTrip(backend)
        registerSocketPairPingPong(backend)
    }
}
