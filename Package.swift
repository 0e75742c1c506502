// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "RingPoll",
    products: [
        .library(name: "RingPoll", targets: ["RingPoll"]),
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
        // Counts malloc calls of the current thread, so tests can prove hot paths allocate nothing.
        .target(name: "CMallocCounter", path: "Tests/CMallocCounter"),
        .testTarget(
            name: "RingPollTests",
            dependencies: ["RingPoll", "CMallocCounter"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
