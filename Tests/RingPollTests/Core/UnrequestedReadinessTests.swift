import Glibc
import Testing
@testable import RingPoll

/// Readiness a registration did not ask for is not reported, and never ends its wait.
///
/// io_uring adds `EPOLLRDHUP` to every poll request, whatever its mask (the kernel's
/// `IO_POLL_UNMASK`), and completes a poll on it. Once the peer of a TCP connection has shut
/// down its writing side, `RDHUP` holds for good, so a writable-only poll completes at once with
/// nothing but `RDHUP`: an event without any flag, and a single-shot (level, oneshot) poll used up
/// or re-armed into another immediate completion. epoll reports only what was asked for, plus
/// errors and hang-ups. Found by the differential fuzzer (docs/RELIABILITY.md).
@Suite struct UnrequestedReadinessTests {
    /// A connection whose peer has half-closed (so `local` reads end of stream: RDHUP) and whose
    /// send buffer `local` has filled (so it is not writable until the peer reads).
    private struct HalfClosedAndFull {
        let pair: ConnectedTCP
        var local: TCPStream { pair.client }
        var peer: TCPStream { pair.server }

        init() throws {
            pair = try ConnectedTCP()
            let chunk = [UInt8](repeating: 1, count: 65_536)
            var full = false
            for _ in 0..<4_096 where !full {
                full = thrown { () throws(Errno) in _ = try pair.client.write(chunk) } == .wouldBlock
            }
            try #require(full, "the send buffer never filled")
            try pair.server.shutdown(.write)
            #expect(waitFor(pair.client.fileDescriptor, POLLIN))  // the FIN has arrived
        }

        /// The peer reads everything that is queued for it, so `local` becomes writable again.
        func peerDrains() {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while (try? peer.read(into: &buffer)).map({ $0 > 0 }) ?? false {}
        }
    }

    @Test(arguments: TestBackends.withRingModes, [Trigger.edge, .level, .oneshot])
    func writableOnlyRegistrationIgnoresTheReadHangUp(target: BackendUnderTest, trigger: Trigger) throws {
        let poll = try target.makePoll()
        let connection = try HalfClosedAndFull()
        try poll.registry.register(connection.local, token: Token(1), interests: .writable, trigger: trigger)
        // Not writable, and the read hang-up was not asked for: nothing to report, and the poll
        // really waits (a level registration must not spin on it).
        var events = Events(capacity: 8)
        var polls = 0
        let clock = ContinuousClock()
        let end = clock.now + .milliseconds(60)
        var seen: [Event] = []
        while clock.now < end {
            try poll.pollRetrying(&events, timeout: end - clock.now)
            polls += 1
            seen.append(contentsOf: events)
        }
        #expect(seen.isEmpty, "\(seen.count) events, the first: \(seen.prefix(3))")
        #expect(polls < 20, "\(polls) polls returned in 60 ms: the wait spins")
        // Once the peer reads, the registration reports writable, on every trigger.
        connection.peerDrains()
        let writable = try pollUntil(poll) { $0.contains { $0.token == Token(1) && $0.isWritable } }
        #expect(writable.contains { $0.isWritable }, "\(writable)")
        #expect(writable.allSatisfy { $0.isWritable }, "\(writable.prefix(3))")
    }
}
