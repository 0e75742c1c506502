// Port of mio's tests/regressions.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `issue_1205` wakes the poll from a thread that sleeps 500 ms first, so that the poll is
//   blocked by then; here the thread waits until the poller is asleep in the kernel (the
//   backend's diagnostics), and the poll has a 5 s timeout instead of none.
// - `issue_1403` involves no `Poll`, so it runs once rather than per backend.
// - The peer of `issue_776` is a RingPoll stream on a helper thread with a 5 s bounded read, in
//   place of a blocking `std` stream with a 5 s read timeout.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio regressions.rs") struct RegressionsConformanceTests {
    private static let id1 = Token(1)
    private static let wakeToken = Token(10)

    /// A registered stream that is dropped must really be closed: the peer's read returns.
    @Test("regressions::issue_776", arguments: TestBackends.all)
    func issue776(backend: Backend) throws {
        let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
        let address = try listener.localAddress()

        let peer = MioThread {
            let (stream, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
            var buffer = [UInt8](repeating: 0, count: 16)
            // mio: the read must succeed (here: end of stream once the stream is dropped).
            _ = try retrying(stream.fileDescriptor, within: .seconds(5)) { () throws(Errno) in
                try stream.read(into: &buffer)
            }
        }

        let test = try MioPoll(backend)
        var stream: TCPStream? = try TCPStream.connect(to: address)
        try test.registry.register(stream!, token: Token(1), interests: [.readable, .writable])
        try test.eventLoop { $0.token == Token(1) }  // connected

        var buffer = [UInt8](repeating: 0, count: 1024)
        Mio.assertWouldBlock { try stream!.read(into: &buffer) }

        stream = nil
        peer.join()
    }

    /// After `deregister`, a connection that arrived before it must not be reported: the only
    /// event is the waker's.
    @Test("regressions::issue_1205", arguments: TestBackends.all)
    func issue1205(backend: Backend) throws {
        let test = try MioPoll(backend)
        let waker = try Waker(registry: test.registry, token: Self.wakeToken)
        let selector = test.registry.selector

        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        try test.registry.register(listener, token: Self.id1, interests: .readable)

        #expect(try test.pollOnce(timeout: .zero).isEmpty)

        let stream = try TCPStream.connect(to: try listener.localAddress())
        try test.registry.deregister(listener)

        let thread = MioThread {
            guard waitUntil(within: .seconds(5), { selector.diagnostics.isPollerAsleep }) else {
                throw MioPeerFailure("the poller never went to sleep")
            }
            try waker.wake()
        }

        let events = try test.pollOnce(timeout: .seconds(5))
        // Only the waker's event; none for the deregistered listener.
        #expect(events.count == 1, "events: \(events)")
        #expect(events.first?.isReadable == true)
        #expect(events.first?.token == Self.wakeToken)
        thread.join()
        withExtendedLifetime((stream, waker)) {}
    }

    @Test("regressions::issue_1403")
    func issue1403() throws {
        let path = temporarySocketPath("issue_1403")
        defer { unlink(path) }
        let datagram1 = try UnixDatagram.bind(try UnixAddress(path: path))
        let datagram2 = try UnixDatagram.unbound()

        var buffer = [UInt8](repeating: 1, count: 1024)
        let sent = try datagram2.send(buffer, to: try UnixAddress(path: path))

        let (received, address) = try datagram1.receiveFrom(into: &buffer)
        #expect(received == sent)
        #expect(address.path == nil)
    }
}
