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

    /// Another thread closes while the poll thread is busy elsewhere: it cannot submit the
    /// cancel itself, so the file is released when the poll thread next polls (at once on epoll).
    @Test(arguments: TestBackends.withRingModes)
    func closeFromAnotherThreadIsCompletedByTheNextPoll(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pair = SocketPair()
        let owned = OwnedDescriptor(dup(pair.local))
        pair.closeLocal()
        try owned.register(poll.registry, token: Token(1), interests: [.readable, .writable], trigger: .edge)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(1))  // armed
        #expect(TestThread { (try? owned.close()) != nil }.join())
        try poll.pollRetrying(&events, timeout: .zero)
        #expect(events.isEmpty)
        var probe = pollfd(fd: pair.peer, events: Int16(POLLIN), revents: 0)
        #expect(Glibc.poll(&probe, 1, 1000) == 1, "the peer saw no close")
        var byte: UInt8 = 0
        #expect(read(pair.peer, &byte, 1) == 0)
    }

    /// A close ends this descriptor, not the connection: another holder of the same socket (a
    /// dup here; a forked child or a passed descriptor alike) keeps talking to the peer. Closing
    /// on the poll thread, from another thread, and after the poll is gone.
    @Test(arguments: TestBackends.all, CloseSite.allCases)
    func closingLeavesOtherHoldersConnected(backend: Backend, site: CloseSite) throws {
        var poll: Poll? = try Poll(backend: backend)
        let pair = SocketPair()
        let owned = OwnedDescriptor(dup(pair.local))
        try owned.register(poll!.registry, token: Token(1), interests: .readable, trigger: .edge)
        var events = Events(capacity: 8)
        try poll!.pollRetrying(&events, timeout: .zero)  // armed
        switch site {
        case .pollThread: try owned.close()
        case .otherThread: #expect(TestThread { (try? owned.close()) != nil }.join())
        case .afterPollDropped:
            poll = nil
            try owned.close()
        }
        try poll?.pollRetrying(&events, timeout: .zero)
        var probe = pollfd(fd: pair.peer, events: Int16(POLLIN), revents: 0)
        #expect(Glibc.poll(&probe, 1, 50) == 0, "the peer saw the connection end")
        #expect(Glibc.send(pair.local, "x", 1, Int32(MSG_NOSIGNAL)) == 1, "the other holder lost the connection")
    }

    enum CloseSite: CaseIterable, Sendable {
        case pollThread, otherThread, afterPollDropped
    }
}
