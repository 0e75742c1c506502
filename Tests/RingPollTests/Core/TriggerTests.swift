import Glibc
import Testing
@testable import RingPoll

/// Edge, level and oneshot, and the merge of readiness into one event per registration.
@Suite struct TriggerTests {
    @Test(arguments: TestBackends.all)
    func edgeReportsNewReadinessOnly(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        pair.send()
        #expect(try pollFor(Token(1), in: poll).count == 1)
        // The data stays unread: readiness merely persists, nothing new to report.
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        pair.send()  // new data is a new edge, read or not
        #expect(try pollFor(Token(1), in: poll).count == 1)
        pair.drain()
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
    }

    @Test(arguments: TestBackends.all)
    func levelReportsOnEveryPollWhileReady(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable, trigger: .level)
        pair.send()
        var events = Events(capacity: 8)
        for round in 0..<5 {
            try poll.pollRetrying(&events, timeout: .seconds(2))
            #expect(events.map(\.token) == [Token(1)], "round \(round)")
            #expect(events.first?.isReadable == true)
        }
        pair.drain()
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        pair.send()
        try poll.pollRetrying(&events, timeout: .seconds(2))
        #expect(events.map(\.token) == [Token(1)])
    }

    @Test(arguments: TestBackends.all)
    func levelWritableRepeatsOnAnIdleSocket(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .writable, trigger: .level)
        var events = Events(capacity: 8)
        for _ in 0..<3 {
            try poll.pollRetrying(&events, timeout: .seconds(2))
            #expect(events.map(\.token) == [Token(1)] && events.first?.isWritable == true)
        }
    }

    @Test(arguments: TestBackends.all)
    func oneshotFiresOnceThenStaysSilentUntilReregister(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable, trigger: .oneshot)
        pair.send()
        #expect(try pollFor(Token(1), in: poll).count == 1)
        pair.send()
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        // Still registered: registering again is refused, reregister re-arms and re-reports.
        #expect(throws: Errno.fileExists) {
            try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        }
        try poll.registry.reregister(SourceFD(pair.local), token: Token(2), interests: .readable, trigger: .oneshot)
        #expect(try pollFor(Token(2), in: poll).map(\.token) == [Token(2)])
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        try poll.registry.deregister(SourceFD(pair.local))
    }

    @Test(arguments: TestBackends.all)
    func readableAndWritableMergeIntoOneEvent(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        pair.send()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: [.readable, .writable])
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(2))
        #expect(events.count == 1)
        #expect(events.first?.isReadable == true && events.first?.isWritable == true)
    }

    /// Several kernel notifications before a poll (two writes, which io_uring may post as two
    /// completions) come out as one event.
    @Test(arguments: TestBackends.withRingModes)
    func completionsOfOnePollMerge(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: [.readable, .writable])
        #expect(try pollFor(Token(1), in: poll).count == 1)  // writable at once
        pair.send()
        pair.send()
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(2))
        #expect(events.count == 1 && events.first?.isReadable == true)
    }

    /// Data that arrives and is read between two polls: epoll re-checks readiness when it
    /// harvests and says nothing; io_uring posts the wake-up's mask without re-checking, so it
    /// may report one readable that a read answers with would-block (mio's "spurious event").
    /// Either way: at most one event per wake-up, never repeated, and the next edge still comes.
    @Test(arguments: TestBackends.withRingModes)
    func readinessConsumedBeforeThePollIsReportedAtMostOnce(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        #expect(try eventsWithin(.milliseconds(10), from: poll).isEmpty)
        for round in 0..<3 {
            pair.send()
            #expect(pair.drain() == 1)
            let late = try eventsWithin(.milliseconds(30), from: poll)
            #expect(late.count <= 1 && late.allSatisfy { $0.token == Token(1) && $0.isReadable }, "round \(round): \(late)")
            #expect(pair.drain() == 0, "round \(round): the event was not spurious after all")
            #expect(try eventsWithin(.milliseconds(20), from: poll).isEmpty, "round \(round): repeated")
        }
        pair.send()
        #expect(try pollFor(Token(1), in: poll).count == 1)
    }

    @Test(arguments: TestBackends.all)
    func peerCloseIsReadClosed(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)
        #expect(Glibc.shutdown(pair.peer, Int32(SHUT_WR)) == 0)
        let seen = try pollFor(Token(1), in: poll)
        #expect(seen.count == 1 && seen.first?.isReadClosed == true && seen.first?.isReadable == true)
    }
}
