import Glibc
import Testing
@testable import RingPoll

/// A `SourceFD` closed without deregister before its registration ever reached the kernel, its
/// number reused by an unrelated socket: the io_uring backend used to arm the stale registration
/// on that socket (the identity check ran on re-arms only). The armed poll then held the new
/// socket's file, so closing it did not close it: its peer saw no end of stream until the ring
/// happened to be torn down. Found by the differential fuzzer (docs/RELIABILITY.md).
@Suite struct UnarmedStaleRegistrationTests {
    @Test(arguments: TestBackends.withRingModes)
    func staleRegistrationIsNotArmedOnTheFileThatReusedItsNumber(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let first = SocketPair()
        let number = first.local
        try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
        first.closeLocal()  // not deregistered, never armed
        // An unrelated connection takes the number (dup2 in case another test took it first).
        var fds: [CInt] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        let peer = fds[1]
        defer { close(peer) }
        if fds[0] != number {
            try #require(dup2(fds[0], number) == number)
            close(fds[0])
        }
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)  // the stale registration would be armed now
        #expect(events.isEmpty, "\(Array(events))")
        // Closing the socket must really close it: its peer reads end of stream. Not at once: a
        // process another test spawns holds a copy of every descriptor between its clone and its
        // exec. A stale registration would hold the file until the ring goes, far past 2 s.
        close(number)
        var probe = pollfd(fd: peer, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        var ready = Glibc.poll(&probe, 1, 2_000)
        while ready < 0 && errno == EINTR { ready = Glibc.poll(&probe, 1, 2_000) }
        #expect(ready == 1 && read(peer, &byte, 1) == 0,
                "the closed socket is still open: a stale registration holds it")
        #expect(try eventsWithin(.milliseconds(20), from: poll).isEmpty)
    }
}
