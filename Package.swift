// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "RingPoll",
    products: [
        .library(name: "RingPoll", targets: ["RingPoll"]),
        .library(name: "RingPollAsync", targets: ["RingPollAsync"]),
        .executable(name: "echo-server", targets: ["EchoServer"]),
        .executable(name: "chat-server", targets: ["ChatServer"]),
        .executable(name: "timer-demo", targets: ["TimerDemo"]),
        .executable(name: "async-echo-server", targets: ["AsyncEchoServer"]),
        // Reliability tools (docs/RELIABILITY.md): the differential fuzzer and the fault soak.
        .executable(name: "ringpoll-fuzz", targets: ["RingPollFuzz"]),
        .executable(name: "ringpoll-soak", targets: ["RingPollSoak"]),
        .executable(name: "ringpoll-limits", targets: ["RingPollLimits"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // Our own opaque C API over liburing; <liburing.h> never leaves the .c files.
        .target(
            name: "CLiburing",
            path: "CLiburing",
            linkerSettings: [.linkedLibrary("uring")]
        ),
        .target(
            name: "RingPoll",
            dependencies: [
                "CLiburing",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Swift concurrency on RingPoll: an executor whose thread polls, async sockets on it.
        .target(
            name: "RingPollAsync",
            dependencies: ["RingPoll"]
        ),
        // Examples: small programs people read first. Arguments are parsed by hand so that the
        // package depends on swift-system alone.
        .executableTarget(name: "EchoServer", dependencies: ["RingPoll"], path: "Examples/EchoServer"),
        .executableTarget(name: "ChatServer", dependencies: ["RingPoll"], path: "Examples/ChatServer"),
        .executableTarget(name: "TimerDemo", dependencies: ["RingPoll"], path: "Examples/TimerDemo"),
        .executableTarget(name: "AsyncEchoServer", dependencies: ["RingPollAsync"], path: "Examples/AsyncEchoServer"),
        // Test-only C: a malloc counter (proves hot paths allocate nothing) and a per-thread
        // seccomp filter (makes io_uring really unavailable to one thread).
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
        // The differential fuzzer: programs, the contract model, the runner and the shrinker,
        // shared by the `ringpoll-fuzz` executable and the smoke test in the suite.
        .target(name: "RingPollFuzzing", dependencies: ["RingPoll", "CLiburing"], path: "Tests/RingPollFuzzing"),
        .executableTarget(name: "RingPollFuzz", dependencies: ["RingPollFuzzing", "CTestSupport"], path: "Tests/RingPollFuzz"),
        // The fault soak: minutes of echo load with resets, half-closes, slow readers, cross-thread
        // registry calls and a poll that keeps moving threads.
        .executableTarget(name: "RingPollSoak", dependencies: ["RingPoll", "CTestSupport"], path: "Tests/RingPollSoak"),
        // Resource-limit scenarios, each in a process of its own (RLIMIT_NOFILE and RLIMIT_AS are
        // per process), launched by ResourceLimitTests.
        .executableTarget(name: "RingPollLimits", dependencies: ["RingPoll", "CTestSupport"], path: "Tests/RingPollLimits"),
        .testTarget(
            name: "RingPollTests",
            // The examples and the fuzzer are built with the tests, which launch them as processes.
            dependencies: ["RingPoll", "CTestSupport", "EchoServer", "ChatServer", "TimerDemo", "AsyncEchoServer", "RingPollFuzz", "RingPollLimits"]
        ),
        .testTarget(
            name: "RingPollAsyncTests",
            // Shares the malloc counter with RingPollTests (one test binary links it once).
            dependencies: ["RingPollAsync", "RingPoll", "CTestSupport", "AsyncEchoServer"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
