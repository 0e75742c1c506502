import Glibc
import Testing
@testable import RingPoll

/// Closing a registered descriptor that RingPoll owns releases the file at once: an armed
/// io_uring poll holds a reference to it, which the close path cancels before the close.
@Suite struct CloseReleaseTests {
    @Test(arguments: TestBackends.withRingModes)
    func peerSeesEndOfStreamWithoutAnotherPoll(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let (pair, socket) = try ownedSocket(registeredWith: poll, interests: [.readable, .writable])
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(1))  // armed: the kernel holds the file
        #expect(events.map(\.token) == [Token(1)])

        try socket.close()
        // No poll in between: the peer must read end of stream right away.
        #expect(peerReadsEndOfStream(pair, within: 0))
    }

    @Test(arguments: TestBackends.all)
    func closingFromAnotherThreadWhilePollingReleasesTheFile(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let (pair, socket) = try ownedSocket(registeredWith: poll, interests: .readable)
        let handoff = Handoff(poll)
        let registry = poll.registry
        let closer = TestThread { () -> Bool in
            guard waitUntil(within: .seconds(5), { registry.selector.diagnostics.isPollerAsleep }) else { return false }
            return (try? socket.close()) != nil
        }
        // The poller wakes for the close and submits the cancel; the peer then reads EOF.
        let seen = try eventsWithin(.milliseconds(100), from: handoff.value)
        #expect(closer.join())
        #expect(seen.isEmpty)
        #expect(peerReadsEndOfStream(pair, within: 0))
    }

    /// Another thread closes while the poll thread is busy elsewhere: it cannot submit the
    /// cancel itself, so the file is released when the poll thread next polls (at once on epoll).
    @Test(arguments: TestBackends.withRingModes)
    func closeFromAnotherThreadIsCompletedByTheNextPoll(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let (pair, socket) = try ownedSocket(registeredWith: poll, interests: [.readable, .writable])
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .seconds(1))  // armed
        #expect(TestThread { (try? socket.close()) != nil }.join())
        try poll.pollRetrying(&events, timeout: .zero)
        #expect(events.isEmpty)
        #expect(peerReadsEndOfStream(pair, within: 1000))
    }

    /// Deregister, then close at once (the way mio programs drop a connection): the cancel has
    /// not reached the kernel yet, so the close must take it along, or the armed poll would keep
    /// the file open until the next poll.
    @Test(arguments: TestBackends.withRingModes)
    func closeRightAfterDeregisterReleasesTheFile(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let (pair, socket) = try ownedSocket(registeredWith: poll, interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)  // armed: the kernel holds the file
        try socket.deregister(poll.registry)
        try socket.close()
        #expect(peerReadsEndOfStream(pair, within: 0))
    }

    /// Many registrations deregistered between two polls leave one item of deferred task-work
    /// each (DEFER_TASKRUN), and a wait runs only about 20: they must still all run, or the
    /// cancelled polls keep their files (and kernel memory) without bound. After one poll, every
    /// file is free: each peer reads end of stream as soon as its socket is closed.
    @Test(arguments: TestBackends.withRingModes)
    func cancelsOfManyDeregistrationsAllReachTheKernel(target: BackendUnderTest) throws {
        raiseDescriptorLimit()
        let poll = try target.makePoll()
        let sockets = try (0..<500).map { index -> (SocketPair, UnixStream) in
            let pair = SocketPair()
            let socket = UnixStream(owned: OwnedDescriptor(duplicateCloseOnExec(pair.local)))
            pair.closeLocal()
            try socket.register(poll.registry, token: Token(index), interests: .readable, trigger: .edge)
            return (pair, socket)
        }
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)  // all armed
        for (_, socket) in sockets { try socket.deregister(poll.registry) }
        try poll.pollRetrying(&events, timeout: .zero)  // the cancels go out
        // Closing now, from another thread (which cannot touch the ring): only the file
        // references the polls held are left to drop, and those must be gone already.
        let closing = Handoff(sockets.map(\.1))
        #expect(TestThread { closing.value.allSatisfy { (try? $0.close()) != nil } }.join())
        let stillOpen = sockets.filter { !peerReadsEndOfStream($0.0, within: 0) }.count
        #expect(stillOpen == 0, "\(stillOpen) of 500 files still held by cancelled polls")
    }

    /// A close ends this descriptor, not the connection: another holder of the same socket (a
    /// dup here; a forked child or a passed descriptor alike) keeps talking to the peer. Closing
    /// on the poll thread, from another thread, and after the poll is gone.
    @Test(arguments: TestBackends.all, CloseSite.allCases)
    func closingLeavesOtherHoldersConnected(backend: Backend, site: CloseSite) throws {
        var poll: Poll? = try Poll(backend: backend)
        let pair = SocketPair()
        let socket = UnixStream(owned: OwnedDescriptor(duplicateCloseOnExec(pair.local)))
        try socket.register(poll!.registry, token: Token(1), interests: .readable, trigger: .edge)
        var events = Events(capacity: 8)
        try poll!.pollRetrying(&events, timeout: .zero)  // armed
        switch site {
        case .pollThread: try socket.close()
        case .otherThread: #expect(TestThread { (try? socket.close()) != nil }.join())
        case .afterPollDropped:
            poll = nil
            try socket.close()
        }
        try poll?.pollRetrying(&events, timeout: .zero)
        var probe = pollfd(fd: pair.peer, events: Int16(POLLIN), revents: 0)
        #expect(Glibc.poll(&probe, 1, 50) == 0, "the peer saw the connection end")
        #expect(Glibc.send(pair.local, "x", 1, Int32(MSG_NOSIGNAL)) == 1, "the other holder lost the connection")
    }

    enum CloseSite: CaseIterable, Sendable {
        case pollThread, otherThread, afterPollDropped
    }

    /// A socket socket by RingPoll (as its socket types own theirs), registered with `poll`; the
    /// pair keeps the peer end.
    private func ownedSocket(registeredWith poll: Poll, interests: Interest) throws -> (SocketPair, UnixStream) {
        let pair = SocketPair()
        let socket = UnixStream(owned: OwnedDescriptor(duplicateCloseOnExec(pair.local)))
        pair.closeLocal()
        try socket.register(poll.registry, token: Token(1), interests: interests, trigger: .edge)
        return (pair, socket)
    }

    /// Whether the peer end reads end of stream within `milliseconds`: the file was released.
    private func peerReadsEndOfStream(_ pair: SocketPair, within milliseconds: Int32) -> Bool {
        var probe = pollfd(fd: pair.peer, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        return Glibc.poll(&probe, 1, milliseconds) == 1 && read(pair.peer, &byte, 1) == 0
    }
}
