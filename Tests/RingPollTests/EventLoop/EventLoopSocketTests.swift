import Glibc
import Testing
@testable import RingPoll

/// `connect` and `listen` through the loop, with their promise that the handler hears of a
/// connect or a queued connection that happened before registration, and the read hints of
/// data, a peer's FIN and a peer's reset.
@Suite struct EventLoopSocketTests {
    private func makeLoop(_ backend: Backend) throws -> EventLoop<RecordingHandler> {
        try EventLoop(configuration: .init(), backend: backend)
    }

    /// A connect through the loop reports writable for its token, connected.
    @Test(arguments: TestBackends.all)
    func connectReportsWritable(backend: Backend) throws {
        let loop = try makeLoop(backend)
        let listener = try LoopTestSupport.listener()
        var handler = RecordingHandler()
        let stream = try loop.connect(to: try listener.localAddress(), token: Token(5))
        #expect(try loop.runUntil(&handler) { $0.readies(for: Token(5)).contains { $0.isWritable } })
        #expect(stream.takeError() == nil)
        #expect(try stream.peerAddress() == (try listener.localAddress()))
        _ = try LoopTestSupport.accept(from: listener)
    }

    /// The synchronous case: the connect has already finished when the stream is registered
    /// (as when the kernel completes it inside `connect(2)`). The handler still hears of it,
    /// once, with writable; the backends report readiness that exists at registration, so no
    /// synthetic event is needed and none doubles the real one.
    @Test(arguments: TestBackends.all)
    func connectFinishedBeforeRegistrationStillNotifies(backend: Backend) throws {
        let loop = try makeLoop(backend)
        let listener = try LoopTestSupport.listener()
        let stream = try LoopTestSupport.connected(to: try listener.localAddress())
        #expect(stream.takeError() == nil)
        _ = try stream.peerAddress()  // really connected already
        try loop.watchConnecting(stream, token: Token(6))
        var handler = RecordingHandler()
        try loop.runOnceUninterrupted(&handler, timeout: .seconds(5))
        #expect(handler.readies(for: Token(6)).count == 1, "\(handler.readies)")
        #expect(handler.readies(for: Token(6)).first?.isWritable == true)
        try loop.runFor(&handler, .milliseconds(30))
        #expect(handler.readies(for: Token(6)).count == 1, "duplicate ready for the same readiness")
        _ = try LoopTestSupport.accept(from: listener)
    }

    /// Loopback connects often complete inside `connect(2)`; whichever way each of these went,
    /// every one is reported exactly once with writable in its first ready.
    @Test(arguments: TestBackends.all)
    func manyConnectsEachNotifiedOnce(backend: Backend) throws {
        let loop = try makeLoop(backend)
        let listener = try LoopTestSupport.listener()
        let address = try listener.localAddress()
        var handler = RecordingHandler()
        var streams: [TCPStream] = []
        var connectedAtOnce = 0
        for index in 0..<50 {
            let stream = try loop.connect(to: address, token: Token(index))
            if (try? stream.peerAddress()) != nil { connectedAtOnce += 1 }
            streams.append(stream)
        }
        print("[connect] \(backend): \(connectedAtOnce) of 50 loopback connects had finished when connect returned")
        #expect(try loop.runUntil(&handler) { handler in (0..<50).allSatisfy { !handler.readies(for: Token($0)).isEmpty } })
        try loop.runFor(&handler, .milliseconds(30))
        for index in 0..<50 {
            let readies = handler.readies(for: Token(index))
            #expect(readies.count == 1, "token \(index): \(readies)")
            #expect(readies.first?.isWritable == true)
        }
        #expect(streams.allSatisfy { $0.takeError() == nil })
        for _ in 0..<50 { _ = try LoopTestSupport.accept(from: listener) }
    }

    /// A refused connect is reported too: writable with an error, and `takeError()` says why.
    @Test(arguments: TestBackends.all)
    func refusedConnectIsReported(backend: Backend) throws {
        let loop = try makeLoop(backend)
        // A port nobody listens on: bind one, note it, close it.
        let closedAddress: SocketAddress = try {
            let listener = try LoopTestSupport.listener()
            defer { try? listener.close() }
            return try listener.localAddress()
        }()
        var handler = RecordingHandler()
        let stream = try loop.connect(to: closedAddress, token: Token(8))
        #expect(try loop.runUntil(&handler) { !$0.readies(for: Token(8)).isEmpty })
        let event = handler.readies(for: Token(8)).first
        #expect(event?.isWritable == true)
        #expect(event?.isError == true)
        #expect(event?.readHint == .error)
        #expect(stream.takeError() == .connectionRefused)
    }

    /// Connections queued before `listen` are reported by the first tick, once.
    @Test(arguments: TestBackends.all)
    func listenReportsConnectionsQueuedBefore(backend: Backend) throws {
        let loop = try makeLoop(backend)
        let listener = try LoopTestSupport.listener()
        let clients = try (0..<3).map { _ in try LoopTestSupport.connected(to: try listener.localAddress()) }
        try loop.listen(listener, token: Token(1))
        var handler = RecordingHandler()
        var accepted: [TCPStream] = []
        handler.onReady = { _, _, event in
            guard event.token == Token(1) else { return }
            while let (stream, _) = try? listener.accept() { accepted.append(stream) }
        }
        try loop.runOnceUninterrupted(&handler, timeout: .seconds(5))
        #expect(handler.readies(for: Token(1)).count == 1)
        #expect(handler.readies(for: Token(1)).first?.isReadable == true)
        #expect(accepted.count == 3)
        try loop.runFor(&handler, .milliseconds(30))
        #expect(handler.readies(for: Token(1)).count == 1, "duplicate ready")

        // Later connections are reported as they come.
        let late = try LoopTestSupport.connected(to: try listener.localAddress())
        #expect(try loop.runUntil(&handler) { _ in accepted.count == 4 })
        _ = (clients, late)
    }

    /// Read hints: data → `.data`; the peer's FIN → `.hangup`; the peer's reset
    /// (SO_LINGER 0) → `.error`; a writable-only event → `.unknown`.
    @Test(arguments: TestBackends.all)
    func readHints(backend: Backend) throws {
        let loop = try makeLoop(backend)
        let listener = try LoopTestSupport.listener()
        var handler = RecordingHandler()
        var buffer = [UInt8](repeating: 0, count: 64)

        // Data.
        let dataClient = try LoopTestSupport.connected(to: try listener.localAddress())
        let dataServer = try LoopTestSupport.accept(from: listener)
        try loop.registry.register(dataServer, token: Token(1), interests: .readable)
        try LoopTestSupport.writeAll([1, 2, 3], to: dataClient)
        #expect(try loop.runUntil(&handler) { !$0.readies(for: Token(1)).isEmpty })
        #expect(handler.readies(for: Token(1)).last?.readHint == .data)
        #expect(try dataServer.read(into: &buffer) == 3)

        // The peer's FIN (shutdown of its writing side), nothing pending to read.
        try dataClient.shutdown(.write)
        #expect(try loop.runUntil(&handler) { $0.readies(for: Token(1)).count == 2 })
        #expect(handler.readies(for: Token(1)).last?.readHint == .hangup)
        #expect(try dataServer.read(into: &buffer) == 0)

        // The peer's reset.
        let resetClient = try LoopTestSupport.connected(to: try listener.localAddress())
        let resetServer = try LoopTestSupport.accept(from: listener)
        try loop.registry.register(resetServer, token: Token(2), interests: .readable)
        try loop.runFor(&handler, .milliseconds(10))
        LoopTestSupport.setLingerZero(resetClient.fileDescriptor)
        try resetClient.close()
        #expect(try loop.runUntil(&handler) { $0.readies(for: Token(2)).contains { $0.isError } })
        #expect(handler.readies(for: Token(2)).last?.readHint == .error)
        #expect(resetServer.takeError() == .connectionReset)

        // Writable only.
        let writeClient = try LoopTestSupport.connected(to: try listener.localAddress())
        try loop.registry.register(writeClient, token: Token(3), interests: .writable)
        #expect(try loop.runUntil(&handler) { !$0.readies(for: Token(3)).isEmpty })
        #expect(handler.readies(for: Token(3)).last?.readHint == .unknown)
        _ = try LoopTestSupport.accept(from: listener)
    }

    /// The hint's precedence, straight from poll bits: error, then hang-up, then data.
    @Test func readHintPrecedence() {
        let cases: [(UInt32, ReadHint)] = [
            (PollBits.input, .data),
            (PollBits.priority, .data),
            (PollBits.input | PollBits.readHangUp, .hangup),
            (PollBits.hangUp, .hangup),
            (PollBits.input | PollBits.readHangUp | PollBits.hangUp | PollBits.error, .error),
            (PollBits.error, .error),
            (PollBits.output, .unknown),
            (PollBits.readHangUp, .unknown),  // RDHUP without IN is not read-closed (mio's rule)
            (0, .unknown),
        ]
        for (bits, hint) in cases {
            #expect(Event(token: Token(0), bits: bits).readHint == hint, "bits \(bits)")
        }
    }
}
