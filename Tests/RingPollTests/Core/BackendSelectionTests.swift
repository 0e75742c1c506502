import CLiburing
import CTestSupport
import Glibc
import Testing
@_spi(Tuning) @testable import RingPoll

@Suite struct BackendSelectionTests {
    private let unavailable = IOUringAvailability.unavailable(.notPermitted, reason: "seccomp")

    @Test func automaticPrefersIOUringWhenAvailable() throws {
        #expect(try BackendSelection.resolve(.automatic, override: nil) { .available } == .ioUring(required: false))
        #expect(try BackendSelection.resolve(.automatic, override: "") { .available } == .ioUring(required: false))
    }

    @Test func automaticFallsBackToEpoll() throws {
        #expect(try BackendSelection.resolve(.automatic, override: nil) { unavailable } == .epoll)
    }

    @Test func explicitIOUringThrowsTheProbesError() {
        #expect(throws: Errno.notPermitted) { try BackendSelection.resolve(.ioUring, override: nil) { unavailable } }
        #expect(throws: Errno.noFunction) {
            try BackendSelection.resolve(.ioUring, override: nil) { .unavailable(.noFunction, reason: "old kernel") }
        }
    }

    @Test func environmentOverridesAutomaticOnly() throws {
        #expect(try BackendSelection.resolve(.automatic, override: "epoll") { .available } == .epoll)
        #expect(try BackendSelection.resolve(.automatic, override: "io_uring") { .available } == .ioUring(required: true))
        #expect(throws: Errno.notPermitted) { try BackendSelection.resolve(.automatic, override: "io_uring") { unavailable } }
        #expect(try BackendSelection.resolve(.epoll, override: "io_uring") { .available } == .epoll)
        #expect(try BackendSelection.resolve(.ioUring, override: "epoll") { .available } == .ioUring(required: true))
        #expect(throws: Errno.invalidArgument) { try BackendSelection.resolve(.automatic, override: "uring") { .available } }
    }

    @Test func epollNeverProbes() throws {
        var probed = false
        _ = try BackendSelection.resolve(.epoll, override: nil) { probed = true; return .available }
        _ = try BackendSelection.resolve(.automatic, override: "epoll") { probed = true; return .available }
        #expect(!probed)
    }

    @Test func probeReportsAreInterpreted() {
        func report(_ edit: (inout rp_probe_report) -> Void) -> IOUringAvailability {
            var value = rp_probe_report()
            value.missing_opcode = -1
            edit(&value)
            return IOUringProbe.interpret(value)
        }
        #expect(report { _ in } == .available)
        guard case .unavailable(.noFunction, _) = report({ $0.setup_errno = ENOSYS }) else { Issue.record("ENOSYS"); return }
        guard case .unavailable(.notPermitted, _) = report({ $0.setup_errno = EPERM }) else { Issue.record("EPERM"); return }
        guard case .unavailable(.notSupported, _) = report({ $0.missing_opcode = 6 }) else { Issue.record("opcode"); return }
        guard case .unavailable(.notSupported, _) = report({ $0.missing_feature = 1 }) else { Issue.record("feature"); return }
        guard case .unavailable(.invalidArgument, let why) = report({ $0.multishot_errno = EINVAL }) else { Issue.record("multishot"); return }
        #expect(why.contains("multishot"))
    }

    /// This machine has io_uring; the suite relies on it for the io_uring half of every test.
    @Test func ioUringIsAvailableHere() {
        #expect(Backend.ioUringUnavailableReason == nil, "\(Backend.ioUringUnavailableReason ?? "")")
    }

    /// A seccomp filter on one thread makes io_uring_setup fail with EPERM for real, as in a
    /// container whose profile forbids io_uring. The probe says so, an explicit `.ioUring`
    /// throws that error, and `.automatic` runs on epoll.
    @Test func seccompDeniedIOUringFallsBackToEpoll() throws {
        struct Outcome: Sendable {
            var filterInstalled: Int32
            var probe: IOUringAvailability
            var explicitError: Errno?
            var automaticBackend: Backend?
            var automaticWorks: Bool
        }
        let thread = TestThread { () -> Outcome in
            let installed = rp_deny_io_uring_on_this_thread()
            let probe = IOUringProbe.run()
            var explicitError: Errno?
            do throws(Errno) { _ = try Poll(backend: .ioUring) } catch { explicitError = error }
            var backend: Backend?
            var works = false
            if let poll = try? Poll(backend: .automatic), let waker = try? Waker(registry: poll.registry, token: Token(1)) {
                backend = poll.backend
                var events = Events(capacity: 4)
                works = (try? waker.wake()) != nil && (try? poll.poll(&events, timeout: .seconds(1))) != nil
                    && events.map(\.token) == [Token(1)]
            }
            return Outcome(filterInstalled: installed, probe: probe, explicitError: explicitError, automaticBackend: backend, automaticWorks: works)
        }
        let outcome = thread.join()
        try #require(outcome.filterInstalled == 0, "seccomp filter not installed: \(outcome.filterInstalled)")
        guard case .unavailable(.notPermitted, _) = outcome.probe else {
            Issue.record("probe under seccomp: \(outcome.probe)")
            return
        }
        #expect(outcome.explicitError == .notPermitted)
        if TestBackends.all.count == 2 {  // RINGPOLL_BACKEND unset
            #expect(outcome.automaticBackend == .epoll)
        }
        #expect(outcome.automaticWorks)
    }

    @Test func invalidRingConfigurationIsRejected() {
        #expect(throws: Errno.invalidArgument) {
            try Poll(backend: .ioUring, ringConfiguration: .init(submissionEntries: 64, completionEntries: 8))
        }
        #expect(throws: Errno.invalidArgument) {
            try Poll(backend: .ioUring, ringConfiguration: .init(submissionEntries: 0, completionEntries: 8))
        }
    }
}
