import Glibc
import Testing
@testable import RingPoll

/// Closing a registered descriptor that RingPoll owns releases the file at once: an armed
/// io_uring poll holds a reference to it, which the close path cancels before the close.
@Suite struct CloseReleaseTests {
    @Test(arguments: TestBackends.withRingModes)
    func peerSeesEndOfStreamWithoutAnotherPoll(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        let owned = OwnedDescriptor(dup(pair.local))
        pair.closeLocal()
        try owned.register(poll.registry, token: Token(1), interests: [.readable, .writable], trigger: .edge)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(1))  // armed: the kernel holds the file
        #expect(events.map(\.token) == [Token(1)])

        try owned.close()
        // No poll in between: the peer must read end of stream right away.
        var byte: UInt8 = 0
        #expect(read(pair.peer, &byte, 1) == 0, "errno \(errno): the file is still open")
    }

    @Test(arguments: TestBackends.all)
    func closingFromAnotherThreadWhilePollingReleasesTheFile(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        let owned = OwnedDescriptor(dup(pair.local))
        pair.closeLocal()
        try owned.register(poll.registry, token: Token(1), interests: .readable, trigger: .edge)
        let handoff = Handoff(poll)
        let registry = poll.registry
        let closer = TestThread { () -> Bool in
            guard waitUntil(within: .seconds(5), { registry.selector.diagnostics.isPollerAsleep }) else { return false }
            return (try? owned.close()) != nil
        }
        // The poller wakes for the close and submits the cancel; the peer then reads EOF.
        let seen = try eventsWithin(.milliseconds(100), from: handoff.value)
        #expect(closer.join())
        #expect(seen.isEmpty)
        var byte: UInt8 = 0
        #expect(read(pair.peer, &byte, 1) == 0, "errno \(errno): the file is still open")
    }

    /// The owner thread is not polling and another thread closes the socket: that thread cannot
    /// submit the cancel, but the peer must still see the close at once.
    @Test(arguments: TestBackends.withRingModes)
    func closingFromAnotherThreadWhileNobodyPollsReleasesTheConnection(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        let owned = OwnedDescriptor(dup(pair.local))
        pair.closeLocal()
        try owned.register(poll.registry, token: Token(1), interests: [.readable, .writable], trigger: .edge)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(1))  // armed; nobody polls from here on
        #expect(TestThread { (try? owned.close()) != nil }.join())
        var probe = pollfd(fd: pair.peer, events: Int16(POLLIN), revents: 0)
        #expect(Glibc.poll(&probe, 1, 300) == 1, "the peer saw no close within 300 ms")
        var byte: UInt8 = 0
        #expect(read(pair.peer, &byte, 1) == 0)
    }
}
