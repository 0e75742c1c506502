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
        .testTarget(
            name: "RingPollTests",
            // The examples are built with the tests, which launch them as real processes.
            dependencies: ["RingPoll", "CTestSupport", "EchoServer", "ChatServer", "TimerDemo", "AsyncEchoServer"]
        ),
        .testTarget(
            name: "RingPollAsyncTests",
            // Shares the malloc counter with RingPollTests (one test binary links it once).
            dependencies: ["RingPollAsync", "RingPoll", "CTestSupport", "AsyncEchoServer"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
