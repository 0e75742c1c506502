import Testing
@testable import RingPoll

@Suite struct WakerTests {
    @Test(arguments: TestBackends.all)
    func wakeFromAnotherThreadEndsABlockedPoll(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let waker = try Waker(registry: poll.registry, token: Token(10))
        let registry = poll.registry
        let waking = TestThread { () -> Bool in
            guard waitUntil(within: .seconds(5), { registry.selector.diagnostics.isPollerAsleep }) else { return false }
            return (try? waker.wake()) != nil
        }
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(10))
        #expect(waking.join())
        #expect(events.map(\.token) == [Token(10)])
        #expect(events.first?.isReadable == true)
    }

    @Test(arguments: TestBackends.all)
    func wakesBeforeAPollMergeIntoOneEvent(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let waker = try Waker(registry: poll.registry, token: Token(3))
        for _ in 0..<100 { try waker.wake() }
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(1))
        #expect(events.map(\.token) == [Token(3)])
        #expect(try eventsWithin(.milliseconds(30), from: poll).isEmpty)
        try waker.wake()
        try poll.pollRetrying(&events, timeout: .seconds(1))
        #expect(events.map(\.token) == [Token(3)], "every wake is reported by a later poll")
    }

    @Test(arguments: TestBackends.all)
    func wakersSharingAPollKeepTheirTokens(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let wakers = try (0..<3).map { try Waker(registry: poll.registry, token: Token(100 + $0)) }
        defer { withExtendedLifetime(wakers) {} }  // a dropped waker reports nothing
        for waker in wakers { try waker.wake() }
        let seen = try pollUntil(poll) { $0.count >= 3 }
        #expect(Set(seen.map(\.token)) == [Token(100), Token(101), Token(102)])
        #expect(seen.count == 3)
    }

    @Test(arguments: TestBackends.all)
    func aDroppedWakerReportsNothing(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        var waker: Waker? = try Waker(registry: poll.registry, token: Token(1))
        try waker?.wake()
        waker = nil
        #expect(try eventsWithin(.milliseconds(30), from: poll).isEmpty)
    }

    /// Many threads waking while the poller loops: every wake leads to a report, none is lost.
    @Test(arguments: TestBackends.all)
    func wakesFromManyThreadsAreNeverLost(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let wakers = try (0..<4).map { try Waker(registry: poll.registry, token: Token($0)) }
        defer { withExtendedLifetime(wakers) {} }  // a dropped waker reports nothing
        let threads = wakers.map { waker in
            TestThread { () -> Bool in
                for _ in 0..<1_000 { if (try? waker.wake()) == nil { return false } }
                return true
            }
        }
        #expect(threads.allSatisfy { $0.join() })
        // After the last wake returned, a poll must still report every waker at least once.
        let seen = try pollUntil(poll) { Set($0.map(\.token)).count == 4 }
        #expect(Set(seen.map(\.token)).count == 4)
    }
}
