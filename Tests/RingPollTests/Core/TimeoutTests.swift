import Synchronization
import Testing
@testable import RingPoll

/// Timeouts are measured, so the tests of this suite run one at a time (other suites still run beside it).
@Suite(.serialized) struct TimeoutTests {
    private func measure(_ poll: Poll, _ timeout: Duration?) throws -> Duration {
        var events = Events(capacity: 8)
        let clock = ContinuousClock()
        let start = clock.now
        try poll.pollRetrying(&events, timeout: timeout)
        #expect(events.isEmpty)
        return clock.now - start
    }

    /// Rounding a timeout up delays every sample, while a busy machine delays only some (CI runs
    /// other suites beside this one on two cores), so "not rounded up" is a claim about the fastest.
    private func fastest(_ values: [Duration]) -> Duration { values.min()! }

    @Test(arguments: TestBackends.all)
    func zeroTimeoutReturnsAtOnce(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let times = try (0..<9).map { _ in try measure(poll, .zero) }
        #expect(fastest(times) < .milliseconds(1), "\(times)")
    }

    @Test(arguments: TestBackends.all)
    func oneMillisecondWaitsAboutOneMillisecond(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let times = try (0..<9).map { _ in try measure(poll, .milliseconds(1)) }
        #expect(times.allSatisfy { $0 >= .milliseconds(1) }, "returned early: \(times)")
        #expect(fastest(times) < .milliseconds(4), "not rounded up towards 10 ms: \(times)")
    }

    @Test(arguments: TestBackends.all)
    func subMillisecondTimeoutsAreHonoured(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let times = try (0..<9).map { _ in try measure(poll, .microseconds(200)) }
        #expect(times.allSatisfy { $0 >= .microseconds(200) }, "returned early: \(times)")
        #expect(fastest(times) < .milliseconds(1), "rounded up to a millisecond: \(times)")
    }

    @Test(arguments: TestBackends.all)
    func longerTimeoutIsNotCutShortByInternalWakeups(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        // Registrations from another thread wake the poller internally; it must go back to sleep.
        // The thread registers whenever it sees the poller asleep, until the poll is over (on a
        // slow machine, or under a sanitizer, fewer than all five may fit in the timeout).
        let pairs = (0..<5).map { _ in SocketPair() }
        defer { withExtendedLifetime(pairs) {} }  // descriptors must outlive the test body, also when optimized
        let registry = poll.registry
        let fds = pairs.map(\.local)
        let pollIsOver = Atomic<Bool>(false)
        let registering = TestThread { () -> Int? in
            var registered = 0
            for (index, fd) in fds.enumerated() {
                let sawSleep = waitUntil(within: .seconds(5)) {
                    registry.selector.diagnostics.isPollerAsleep || pollIsOver.load(ordering: .acquiring)
                }
                guard sawSleep else { return nil }
                if pollIsOver.load(ordering: .acquiring) { break }
                if (try? registry.register(SourceFD(fd), token: Token(index), interests: .readable)) == nil { return nil }
                registered += 1
            }
            return registered
        }
        let elapsed = try measure(poll, .milliseconds(200))
        pollIsOver.store(true, ordering: .releasing)
        let registered = registering.join()
        #expect((registered ?? 0) >= 1, "no registration reached the sleeping poller (\(String(describing: registered)))")
        #expect(elapsed >= .milliseconds(200))
    }

    @Test(arguments: TestBackends.all)
    func noTimeoutWaitsForAWake(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let waker = try Waker(registry: poll.registry, token: Token(1))
        let registry = poll.registry
        let waking = TestThread { () -> Bool in
            guard waitUntil(within: .seconds(5), { registry.selector.diagnostics.isPollerAsleep }) else { return false }
            return (try? waker.wake()) != nil
        }
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: nil)
        #expect(waking.join())
        #expect(events.map(\.token) == [Token(1)])
    }

    @Test(arguments: TestBackends.all)
    func negativeTimeoutCountsAsZero(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let times = try (0..<5).map { _ in try measure(poll, .milliseconds(-5)) }
        #expect(fastest(times) < .milliseconds(5), "waited: \(times)")
    }
}
