import Glibc
import Testing
@testable import RingPoll

/// Runs Examples/AsyncEchoServer as a real process, with one and with two executor threads.
@Suite struct AsyncEchoServerExampleTests {
    @Test(arguments: TestBackends.all, [1, 2])
    func echoesAHundredConnectionsAndStopsOnSIGTERM(backend: Backend, threads: Int) throws {
        let server = try ExampleProcess("async-echo-server", ["--port", "0", "--backend", "\(backend)", "--threads", "\(threads)"], backend: backend)
        let banner = try #require(server.nextLine())
        #expect(banner.hasSuffix("with \(threads) thread\(threads == 1 ? "" : "s") (\(backend))"), "\(banner)")
        let address = try SocketAddress(String(banner.split(separator: " ")[3]))

        let poll = try Poll(backend: backend)
        let clients = try (0..<100).map { index in try RoundTripClient(index: index, connectingTo: address) }
        for (index, client) in clients.enumerated() {
            try poll.registry.register(client.stream, token: Token(index), interests: [.readable, .writable])
        }
        var events = Events(capacity: 128)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while !clients.allSatisfy(\.isDone), clock.now < deadline {
            try poll.pollRetrying(&events, timeout: .milliseconds(200))
            for event in events { try clients[event.token.rawValue].advance() }
        }
        #expect(clients.map(\.completed).reduce(0, +) == 1_000)
        #expect(clients.allSatisfy { $0.mismatches == 0 })

        server.signal(SIGTERM)
        #expect(server.waitForExit() == 0, "the server exits cleanly on SIGTERM: \(server.transcript)")
        #expect(server.transcript.last == "async-echo-server stopped", "\(server.transcript)")
    }

    @Test func refusesBadArguments() throws {
        for arguments in [["--port", "not-a-port"], ["--threads", "0"], ["--backend", "kqueue"]] {
            let server = try ExampleProcess("async-echo-server", arguments, backend: .epoll)
            #expect(server.waitForExit() == 2, "\(arguments)")
            #expect(server.transcript.contains { $0.hasPrefix("usage:") })
        }
    }
}

/// Sends 10 messages of 32 bytes, one at a time, and checks each echo.
private final class RoundTripClient {
    let stream: TCPStream
    let index: Int
    private(set) var completed = 0
    private(set) var mismatches = 0
    private var expected: [UInt8] = []
    private var received: [UInt8] = []

    var isDone: Bool { completed == 10 }

    init(index: Int, connectingTo address: SocketAddress) throws {
        self.index = index
        stream = try TCPStream.connect(to: address)
    }

    func advance() throws {
        if expected.isEmpty, !isDone { try send() }
        var buffer = [UInt8](repeating: 0, count: 256)
        while !expected.isEmpty {
            let count: Int
            do throws(Errno) {
                count = try stream.read(into: &buffer)
            } catch {
                guard error == .wouldBlock else { throw error }
                return
            }
            guard count > 0 else { throw Errno.connectionReset }
            received += buffer[..<count]
            guard received.count >= expected.count else { continue }
            if received != expected { mismatches += 1 }
            completed += 1
            received.removeAll()
            expected.removeAll()
            if !isDone { try send() }
        }
    }

    private func send() throws {
        let text = Array("client \(index) round \(completed)".utf8)
        let message = text + [UInt8](repeating: UInt8(ascii: "."), count: max(0, 32 - text.count))
        do throws(Errno) {
            let written = try stream.write(message)
            precondition(written == message.count, "32 bytes fit in an empty socket buffer")
            expected = message
        } catch {
            // Still connecting: the first writable event sends.
            guard error == .wouldBlock || error == .socketNotConnected else { throw error }
        }
    }
}
