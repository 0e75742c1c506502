// swift-tools-version: 6.1
import PackageDescription

// RingPoll's measuring apparatus, kept out of the library's own package so that the library has
// no benchmark dependencies. See docs/BENCHMARKS.md.
let package = Package(
    name: "RingPollBenchmarks",
    dependencies: [
        .package(name: "RingPoll", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Raw C server loops (epoll, liburing multishot poll): the physical limit of each mechanism.
        .target(name: "CRawLoops", dependencies: ["CMeasure"], linkerSettings: [.linkedLibrary("uring")]),
        // Per-thread CPU time and system-call counting (perf_event_open), shared by the tools.
        .target(name: "CMeasure"),
        // The load generator, run by ringpoll-bench in a process of its own (`ringpoll-bench __load`),
        // so that the client side never counts as server time and has its own descriptor limit.
        .target(name: "CLoad", dependencies: ["CMeasure"]),
        // The comparative harness: `swift run -c release ringpoll-bench`.
        .executableTarget(
            name: "ringpoll-bench",
            dependencies: [
                "CRawLoops",
                "CMeasure",
                "CLoad",
                .product(name: "RingPoll", package: "RingPoll"),
                // The shipped example, run as a process of its own: what users run.
                .product(name: "echo-server", package: "RingPoll"),
                .product(name: "RingPollAsync", package: "RingPoll"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/RingPollBench"
        ),
        // The package-benchmark suite: `swift package benchmark`.
        .executableTarget(
            name: "RingPollBenchmarks",
            dependencies: [
                "CMeasure",
                .product(name: "RingPoll", package: "RingPoll"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RingPollBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
