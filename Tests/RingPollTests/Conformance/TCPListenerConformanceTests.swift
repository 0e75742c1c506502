// Port of mio's tests/tcp_listener.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `tcp_listener_std` wraps a listener made by `std` with `from_std`; here the listener is made
//   with raw system calls (blocking, close-on-exec, as std makes it) and adopted with
//   `TCPListener(adopting:)`, which also sets O_NONBLOCK (mio needs `set_nonblocking(true)`).
// - `raw_fd`: RingPoll has no `into_raw_fd` (giving the descriptor up without closing it). The
//   port checks the other half of the round trip: a raw listener adopted with
//   `TCPListener(adopting:)` keeps its descriptor number and address, and `fileDescriptor`
//   reports it.
// - `start_connections` connects with RingPoll streams (waiting, bounded, until connected, as
//   std's blocking connect does) on a helper thread.
// - `no_events_after_deregister` accepts with a bounded retry: mio relies on the connection having
//   arrived during its 50 ms `expect_no_events` poll.
// - `tcp_listener_two_streams` tolerates, on io_uring only, a late readable for the first
//   connection before the second one's (see `acceptAfterReadable`).
// - Tests without a `Poll` (TTL) run once rather than per backend.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio tcp_listener.rs") struct TCPListenerConformanceTests {
    private static let id1 = Token(0)
    private static let id2 = Token(1)

    @Test("tcp_listener::is_send_and_sync")
    func isSendAndSync() {
        Mio.assertSendable(TCPListener.self)
    }

    @Test("tcp_listener::tcp_listener", arguments: TestBackends.all)
    func tcpListener(backend: Backend) throws {
        try smokeTestTCPListener(backend, Mio.anyLocalAddress) { address throws(Errno) in try TCPListener.bind(address) }
    }

    @Test("tcp_listener::tcp_listener_ipv6", arguments: TestBackends.all)
    func tcpListenerIPv6(backend: Backend) throws {
        try smokeTestTCPListener(backend, Mio.anyLocalIPv6Address) { address throws(Errno) in try TCPListener.bind(address) }
    }

    @Test("tcp_listener::tcp_listener_std", arguments: TestBackends.all)
    func tcpListenerStd(backend: Backend) throws {
        try smokeTestTCPListener(backend, Mio.anyLocalAddress) { address throws(Errno) in
            try TCPListener(adopting: try MioStd.tcpListener(address))
        }
    }

    private func smokeTestTCPListener(
        _ backend: Backend, _ address: SocketAddress, _ makeListener: (SocketAddress) throws(Errno) -> TCPListener
    ) throws {
        let test = try MioPoll(backend)

        let listener = try makeListener(address)
        let address = try listener.localAddress()

        Mio.assertNonBlocking(listener.fileDescriptor)
        Mio.assertCloseOnExec(listener.fileDescriptor)

        try test.registry.register(listener, token: Self.id1, interests: .readable)

        let barrier = MioBarrier(2)
        let thread = startConnections(address, 1, barrier)

        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        // Exactly one connection.
        let (stream, peerAddress) = try listener.accept()
        #expect(peerAddress.isLoopback)
        #expect(try stream.peerAddress() == peerAddress)
        #expect(try stream.localAddress() == address)

        // The accepted stream is non-blocking.
        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.assertWouldBlock { try stream.read(into: &buffer) }

        // No more connections.
        Mio.assertWouldBlock { try listener.accept() }

        #expect(listener.takeError() == nil)

        #expect(barrier.wait())
        thread.join()
    }

    @Test("tcp_listener::set_get_ttl")
    func setGetTTL() throws {
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let ttl: UInt32 = 10
        try listener.setTTL(ttl)
        #expect(try listener.ttl() == ttl)
        #expect(listener.takeError() == nil)
    }

    @Test("tcp_listener::get_ttl_without_previous_set")
    func getTTLWithoutPreviousSet() throws {
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        _ = try listener.ttl()
        #expect(listener.takeError() == nil)
    }

    @Test("tcp_listener::raw_fd")
    func rawFD() throws {
        let raw = try MioStd.tcpListener(Mio.anyLocalAddress)
        let listener = try TCPListener(adopting: raw)
        #expect(listener.fileDescriptor == raw)

        let address: SocketAddress = try MioStd.localAddress(raw)
        #expect(try listener.localAddress() == address)

        try listener.close()
        #expect(listener.fileDescriptor == -1)
    }

    @Test("tcp_listener::registering", arguments: TestBackends.all)
    func registering(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        try test.registry.register(listener, token: Self.id1, interests: .readable)
        try test.expectNoEvents()
        withExtendedLifetime(listener) {}
    }

    @Test("tcp_listener::reregister", arguments: TestBackends.all)
    func reregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()

        try test.registry.register(listener, token: Self.id1, interests: .readable)
        try test.registry.reregister(listener, token: Self.id2, interests: .readable)

        let barrier = MioBarrier(2)
        let thread = startConnections(address, 1, barrier)

        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        let (stream, peerAddress) = try listener.accept()
        #expect(peerAddress.isLoopback)
        #expect(try stream.peerAddress() == peerAddress)
        #expect(try stream.localAddress() == address)

        Mio.assertWouldBlock { try listener.accept() }
        #expect(listener.takeError() == nil)

        #expect(barrier.wait())
        thread.join()
    }

    @Test("tcp_listener::no_events_after_deregister", arguments: TestBackends.all)
    func noEventsAfterDeregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()

        try test.registry.register(listener, token: Self.id1, interests: .readable)

        let barrier = MioBarrier(2)
        let thread = startConnections(address, 1, barrier)

        try test.registry.deregister(listener)
        try test.expectNoEvents()

        // The connection can still be accepted.
        let (stream, peerAddress) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
        #expect(peerAddress.isLoopback)
        #expect(try stream.peerAddress() == peerAddress)
        #expect(try stream.localAddress() == address)

        Mio.assertWouldBlock { try listener.accept() }
        #expect(listener.takeError() == nil)

        #expect(barrier.wait())
        thread.join()
    }

    /// Readiness is reported again after a successful accept.
    @Test("tcp_listener::tcp_listener_two_streams", arguments: TestBackends.all)
    func tcpListenerTwoStreams(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()

        let barrier = MioBarrier(3)
        let thread1 = startConnections(address, 1, barrier)

        try test.registry.register(listener, token: Self.id1, interests: .readable)
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        do {
            let (stream, peerAddress) = try listener.accept()
            #expect(peerAddress.isLoopback)
            #expect(try stream.peerAddress() == peerAddress)
            #expect(try stream.localAddress() == address)
        }

        Mio.assertWouldBlock { try listener.accept() }

        let thread2 = startConnections(address, 1, barrier)
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        do {
            let (stream, peerAddress) = try acceptAfterReadable(listener, test, backend)
            #expect(peerAddress.isLoopback)
            #expect(try stream.peerAddress() == peerAddress)
            #expect(try stream.localAddress() == address)
        }

        try test.expectNoEvents()

        #expect(barrier.wait())
        thread1.join()
        thread2.join()
    }

    /// Accepts after a readable event. On io_uring that event may be the first connection's
    /// wake-up, posted after it was accepted (the kernel posts a wake-up's mask without checking
    /// readiness again, see `TriggerTests.readinessConsumedBeforeThePollIsReportedAtMostOnce`);
    /// then, as mio says of spurious events, accept gives would-block and the next readable
    /// brings the second connection. epoll re-checks readiness, so there it must not happen.
    private func acceptAfterReadable(_ listener: TCPListener, _ test: MioPoll, _ backend: Backend) throws -> (TCPStream, SocketAddress) {
        switch outcome({ () throws(Errno) in try listener.accept() }) {
        case .success(let accepted): return accepted
        case .failure(let error): guard error == .wouldBlock else { throw error }
        }
        #expect(backend == .ioUring, "a spurious readable on epoll")
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])
        return try listener.accept()
    }

    /// mio's `start_connections`: makes `count` connections to `address` on a helper thread; each
    /// is held (connected) until `barrier` is passed, then dropped.
    private func startConnections(_ address: SocketAddress, _ count: Int, _ barrier: MioBarrier) -> MioThread {
        MioThread {
            for _ in 0..<count {
                let connection = try TCPStream.connect(to: address)
                guard waitFor(connection.fileDescriptor, POLLOUT) else { throw MioPeerFailure("connect timed out") }
                try barrier.arrive()
                withExtendedLifetime(connection) {}
            }
        }
    }
}
