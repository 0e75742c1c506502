import Testing
@_spi(Tuning) @testable import RingPoll

/// The registry and wakers from other threads, and a poll that changes threads.
@Suite struct CrossThreadTests {
    /// Registers from the test thread while another thread is blocked in `poll(timeout: nil)`:
    /// that very call returns exactly one event, the new registration's. (A waker rescues the
    /// poller if the registration is never seen, so a failure cannot hang the suite.)
    @Test(arguments: TestBackends.all)
    func registrationWhileBlockedIsSeenByThatCall(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let rescue = try Waker(registry: poll.registry, token: Token(999))
        let pair = SocketPair()
        pair.send()
        let handoff = Handoff(poll)
        let poller = TestThread { () -> [Token] in
            var events = Events(capacity: 16)
            do { try handoff.value.pollRetrying(&events, timeout: nil) } catch { return [] }
            return events.map(\.token)
        }
        #expect(waitUntil { poll.registry.selector.diagnostics.isPollerAsleep })
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        var tokens = poller.result(within: .seconds(5))
        if tokens == nil {
            try rescue.wake()
            tokens = poller.join()
        }
        poller.join()
        #expect(tokens == [Token(1)])
    }

    /// A deregistration while the poller sleeps is applied without waiting for another event.
    @Test(arguments: TestBackends.all)
    func deregistrationWhileBlockedTakesEffect(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)
        let handoff = Handoff(poll)
        let poller = TestThread { () -> [Token] in
            var events = Events(capacity: 16)
            do { try handoff.value.pollRetrying(&events, timeout: .milliseconds(300)) } catch { return [Token(-1)] }
            return events.map(\.token)
        }
        #expect(waitUntil { poll.registry.selector.diagnostics.isPollerAsleep })
        try poll.registry.deregister(SourceFD(pair.local))
        pair.send()
        #expect(poller.join() == [])
    }

    /// The thread that armed every poll exits; another thread polls from then on.
    @Test(arguments: TestBackends.withRingModes)
    func eventsKeepArrivingAfterTheArmingThreadExits(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        let handoff = Handoff(poll)
        let armer = TestThread { () -> Int in
            pair.send()
            return (try? pollFor(Token(1), in: handoff.value).count) ?? -1
        }
        #expect(armer.join() == 1)
        pair.drain()
        // The poll thread is gone. Readiness now, and later, must still be reported.
        pair.send()
        #expect(try pollFor(Token(1), in: poll).count == 1)
        pair.drain()
        pair.send()
        #expect(try pollFor(Token(1), in: poll).count == 1)
        if target.backend == .ioUring {
            #expect(poll.registry.selector.diagnostics.ringRebuilds == 1)
        }
    }

    /// Polling alternates between two living threads.
    @Test(arguments: TestBackends.withRingModes)
    func pollMovesBackAndForthBetweenThreads(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        let handoff = Handoff(poll)
        for round in 0..<4 {
            pair.send()
            let count: Int
            if round.isMultiple(of: 2) {
                count = try pollFor(Token(1), in: poll).count
            } else {
                count = TestThread { (try? pollFor(Token(1), in: handoff.value).count) ?? -1 }.join()
            }
            #expect(count == 1, "round \(round)")
            pair.drain()
        }
    }
}
