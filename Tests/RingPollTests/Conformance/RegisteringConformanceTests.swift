// Port of mio's tests/registering.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `reregister_different_interest_without_poll` sleeps 200 ms so that the connection reaches
//   the listener before the reregistration; here a poll(2) on the listener waits for exactly that.
// - mio's debug-only `tcp_register_multiple_event_loops` and `udp_register_multiple_event_loops`
//   expect "already registered with a `Registry`"; the contract's error is `Errno.fileExists`.
//   They also check, which mio does not, that reregistering or deregistering through the other
//   poll is refused with `Errno.noSuchFileOrDirectory` and leaves the first registration working.
// - The hand-written event loop is bounded in time.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio registering.rs") struct RegisteringConformanceTests {
    private static let server = Token(0)
    private static let client = Token(1)

    /// mio's `TestHandler`: read events on the server accept a connection and write to it; the
    /// client's first read event switches it to writable interest; its write event deregisters
    /// everything.
    private final class TestHandler {
        let server: TCPListener
        let client: TCPStream
        var state = 0
        var accepted: [TCPStream] = []

        init(server: TCPListener, client: TCPStream) {
            self.server = server
            self.client = client
        }

        func handleRead(_ registry: Registry, _ token: Token) throws {
            switch token {
            case RegisteringConformanceTests.server:
                let (socket, _) = try server.accept()
                let result = outcome { () throws(Errno) in try socket.write(Array("foobar".utf8)) }
                if case .failure(let error) = result {
                    #expect(error == .wouldBlock, "unexpected error writing to connection: \(error)")
                }
                // mio drops the accepted socket at the end of this scope.
            case RegisteringConformanceTests.client:
                #expect(state == 0, "unexpected state \(state)")
                state = 1
                try registry.reregister(client, token: RegisteringConformanceTests.client, interests: .writable)
            default:
                Issue.record("unexpected token \(token)")
            }
        }

        func handleWrite(_ registry: Registry, _ token: Token) throws {
            #expect(token == RegisteringConformanceTests.client, "unexpected token \(token)")
            #expect(state == 1, "unexpected state \(state)")
            state = 2
            try registry.deregister(client)
            try registry.deregister(server)
        }
    }

    @Test("registering::register_deregister", arguments: TestBackends.all)
    func registerDeregister(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 1024)
        let server = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try server.localAddress()
        try test.registry.register(server, token: Self.server, interests: .readable)

        let client = try TCPStream.connect(to: address)
        // Registered as readable only.
        try test.registry.register(client, token: Self.client, interests: .readable)

        let handler = TestHandler(server: server, client: client)
        // Like mio, only the first event of each poll is handled.
        let clock = ContinuousClock()
        let end = clock.now + .seconds(10)
        var finished = false
        while !finished, clock.now < end {
            guard let event = try test.pollOnce(timeout: .milliseconds(500)).first else { continue }
            if event.isReadable {
                try handler.handleRead(test.registry, event.token)
            }
            if event.isWritable {
                try handler.handleWrite(test.registry, event.token)
                finished = true
            }
        }
        #expect(finished, "the loop did not finish")
        #expect(handler.state == 2)

        let events = try test.pollOnce(timeout: .milliseconds(100))
        #expect(events.isEmpty, "unexpected events: \(events)")
    }

    @Test("registering::reregister_different_interest_without_poll", arguments: TestBackends.all)
    func reregisterDifferentInterestWithoutPoll(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 1024)
        let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
        try test.registry.register(listener, token: Token(0), interests: .readable)

        let stream = try TCPStream.connect(to: try listener.localAddress())
        try test.registry.register(stream, token: Token(2), interests: .readable)

        // mio sleeps 200 ms: the connection is then queued on the listener.
        #expect(waitFor(listener.fileDescriptor, POLLIN))

        try test.registry.reregister(listener, token: Token(0), interests: .writable)

        let events = try test.pollOnce(timeout: .milliseconds(200))
        #expect(events.isEmpty, "unexpected events: \(events)")
        withExtendedLifetime((listener, stream)) {}
    }

    /// mio (debug only): registering with a second poll fails. Contract: `Errno.fileExists`.
    @Test("registering::tcp_register_multiple_event_loops", arguments: TestBackends.all)
    func tcpRegisterMultipleEventLoops(backend: Backend) throws {
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()

        let poll1 = try Poll(backend: backend)
        try poll1.registry.register(listener, token: Token(0), interests: [.readable, .writable])

        let poll2 = try Poll(backend: backend)
        Mio.assertError(.fileExists) {
            try poll2.registry.register(listener, token: Token(0), interests: [.readable, .writable])
        }

        let stream = try TCPStream.connect(to: address)
        try poll1.registry.register(stream, token: Token(1), interests: [.readable, .writable])
        Mio.assertError(.fileExists) {
            try poll2.registry.register(stream, token: Token(1), interests: [.readable, .writable])
        }

        // Contract, beyond mio: the other poll cannot change or remove the registration either.
        Mio.assertError(.noSuchFileOrDirectory) {
            try poll2.registry.reregister(stream, token: Token(1), interests: .readable)
        }
        Mio.assertError(.noSuchFileOrDirectory) { try poll2.registry.deregister(stream) }
        Mio.assertError(.noSuchFileOrDirectory) { try poll2.registry.deregister(listener) }
        var events = Events(capacity: 8)
        let seen = try pollUntil(poll1) { seen in
            seen.contains { $0.token == Token(0) && $0.isReadable } && seen.contains { $0.token == Token(1) && $0.isWritable }
        }
        #expect(seen.contains { $0.token == Token(0) && $0.isReadable })
        #expect(seen.contains { $0.token == Token(1) && $0.isWritable })
        try poll2.pollRetrying(&events, timeout: .zero)
        #expect(events.isEmpty)
        withExtendedLifetime((listener, stream)) {}
    }

    /// mio (debug only): the same for a UDP socket. Contract: `Errno.fileExists`.
    @Test("registering::udp_register_multiple_event_loops", arguments: TestBackends.all)
    func udpRegisterMultipleEventLoops(backend: Backend) throws {
        let socket = try UDPSocket.bind(Mio.anyLocalAddress)

        let poll1 = try Poll(backend: backend)
        try poll1.registry.register(socket, token: Token(0), interests: [.readable, .writable])

        let poll2 = try Poll(backend: backend)
        Mio.assertError(.fileExists) {
            try poll2.registry.register(socket, token: Token(0), interests: [.readable, .writable])
        }

        // Contract, beyond mio: the other poll cannot remove it; the first still reports it.
        Mio.assertError(.noSuchFileOrDirectory) { try poll2.registry.deregister(socket) }
        try pollFor(Token(0), in: poll1)
        withExtendedLifetime(socket) {}
    }

    @Test("registering::registering_after_deregistering", arguments: TestBackends.all)
    func registeringAfterDeregistering(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 8)
        let server = try TCPListener.bind(Mio.anyLocalAddress)

        try test.registry.register(server, token: Self.server, interests: .readable)
        try test.registry.deregister(server)
        try test.registry.register(server, token: Self.server, interests: .readable)

        let events = try test.pollOnce(timeout: .milliseconds(100))
        #expect(events.isEmpty)
        withExtendedLifetime(server) {}
    }
}
