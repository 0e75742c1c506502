import Testing
@testable import RingPoll

/// Resource limits hit for real, each in a child process (`ringpoll-limits`), because
/// RLIMIT_NOFILE and RLIMIT_AS are per process and this one runs tests in parallel. The child
/// prints one line per check; every expected check must be there and pass.
@Suite struct ResourceLimitTests {
    /// RLIMIT_NOFILE reached with a connection waiting on a registered listener.
    @Test(arguments: TestBackends.all)
    func descriptorExhaustionDuringAcceptIsSurvived(backend: Backend) throws {
        var expected = [
            "the waiting connection is reported while the table is full",
            "accept throws tooManyOpenFiles",
            "poll works while the table is full",
            "a new Poll throws tooManyOpenFiles",
            "a new automatic Poll throws tooManyOpenFiles",
            "the waiting connection is accepted once descriptors are free",
            "the accepted stream reports its data, on a poll that moved threads",
            "and the data is intact",
            "the listener reports a new connection",
            "and accepts it",
            "a new Poll works once the table is free",
        ]
        if backend == .ioUring { expected.append("a poll moving threads throws tooManyOpenFiles (no descriptor for the new ring)") }
        try run("accept-emfile", backend: backend, expecting: expected)
    }

    /// Ring setup failing with ENOMEM (RLIMIT_AS: liburing cannot map a large ring).
    @Test(.enabled(if: TestBackends.all.contains(.ioUring), "io_uring only"),
          .enabled(if: MallocCounter.conflictingSanitizer == nil,
                   "ASan and TSan reserve terabytes of shadow address space: RLIMIT_AS cannot be set just above the mapped size"))
    func ringSetupOutOfMemoryFallsBackAndRecovers() throws {
        try run("ring-setup-enomem", backend: .ioUring, expecting: [
            "Poll(backend: .ioUring) throws noMemory",
            ".automatic falls back to epoll",
            "and the epoll poll works",
            "a poll made before keeps working under the pressure",
            "the large ring is made once the pressure is gone",
            "and it polls",
        ])
    }

    private func run(_ scenario: String, backend: Backend, expecting expected: [String]) throws {
        let child = try ExampleProcess("ringpoll-limits", [scenario, "--backend", "\(backend)"], backend: backend)
        let status = child.waitForExit(within: .seconds(60))
        let lines = child.transcript
        for failure in lines where failure.hasPrefix("FAIL ") { Issue.record("\(failure)") }
        for check in expected {
            #expect(lines.contains("ok \(check)"), "missing check '\(check)':\n\(lines.joined(separator: "\n"))")
        }
        #expect(status == 0, "exit \(status.map(String.init) ?? "none"):\n\(lines.joined(separator: "\n"))")
    }
}
