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
        // The scene: a registration that never reached the kernel, its descriptor closed, and an
        // unrelated connection that got the same number. Tests run in parallel and take numbers
        // too, so the scene is set again until the number comes back to this test (dup2 onto it
        // would take it from whichever test holds it now).
        var scene: (poll: Poll, number: CInt, peer: CInt)?
        for _ in 0..<50 where scene == nil {
            let poll = try target.makePoll()
            let first = SocketPair()
            let number = first.local
            try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
            first.closeLocal()  // not deregistered, never armed
            var fds: [CInt] = [-1, -1]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
            if fds[0] == number {
                scene = (poll, number, fds[1])
            } else {
                close(fds[0])
                close(fds[1])
            }
        }
        let (poll, number, peer) = try #require(scene, "the closed number never came back to this test")
        defer { close(peer) }
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)  // the stale registration would be armed now
        #expect(events.isEmpty, "\(Array(events))")
        // Closing the socket must really close it: its peer learns it. Not always at once: a
        // process another test spawns holds a copy of every descriptor between its clone and its
        // exec. A stale registration would hold the file until the ring goes, far past 2 s.
        close(number)
        #expect(peerSeesTheClose(peer, within: 2_000), "the closed socket is still open: a stale registration holds it")
        #expect(try eventsWithin(.milliseconds(20), from: poll).isEmpty)
    }
}

/// Whether `peer` (non-blocking) learns within `milliseconds` that its other end is closed: end
/// of stream, or `ECONNRESET` when bytes were left unread on the closed end. Bytes that arrive
/// first are skipped: the suite runs tests in parallel, and one that writes to a number it has
/// just closed may reach a socket of this test.
private func peerSeesTheClose(_ peer: CInt, within milliseconds: Int) -> Bool {
    let end = ContinuousClock.now + .milliseconds(milliseconds)
    var scratch = [UInt8](repeating: 0, count: 256)
    while ContinuousClock.now < end {
        let count = read(peer, &scratch, scratch.count)
        if count == 0 || (count < 0 && errno == ECONNRESET) { return true }
        if count > 0 { continue }
        guard errno == EAGAIN || errno == EINTR else { return false }
        var probe = pollfd(fd: peer, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&probe, 1, 50)
    }
    return false
}
