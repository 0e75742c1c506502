import Glibc
import Testing
@testable import RingPoll

/// Runs Examples/EchoServer as a real process and talks to it over loopback.
@Suite struct EchoServerExampleTests {
    /// 100 connections at once, 10 round trips each: every echo comes back intact, on each backend.
    @Test(arguments: TestBackends.all)
    func answersAThousandRoundTripsOnAHundredConnections(backend: Backend) throws {
        let server = try ExampleProcess("echo-server", ["--port", "0", "--backend", "\(backend)"], backend: backend)
        let banner = try #require(server.nextLine())
        #expect(banner.hasSuffix("(\(backend))"), "\(banner)")
        let address = try SocketAddress(String(banner.split(separator: " ")[3]))

        let poll = try Poll(backend: backend)
        let clients = try (0..<100).map { _ in try EchoClient(connectingTo: address) }
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
        #expect(clients.map(\.completedRoundTrips).reduce(0, +) == 1_000)
        #expect(clients.allSatisfy { $0.mismatches == 0 })

        server.signal(SIGTERM)
        #expect(server.waitForExit() == 0, "the server exits cleanly on SIGTERM: \(server.transcript)")
    }

    /// A client that sends without reading: once the server's writes would block it stops
    /// reading, so the client's sends stall after a bounded amount (the sockets' buffers and one
    /// read's worth in the server), and every byte still comes back, in order, once it reads.
    @Test(arguments: TestBackends.all)
    func clientThatDoesNotReadIsNotBufferedWithoutBound(backend: Backend) throws {
        let server = try ExampleProcess("echo-server", ["--port", "0", "--backend", "\(backend)"], backend: backend)
        let banner = try #require(server.nextLine())
        let address = try SocketAddress(String(banner.split(separator: " ")[3]))
        let stream = try TCPStream.connect(to: address)
        let poll = try Poll(backend: backend)
        try poll.registry.register(stream, token: Token(0), interests: [.readable, .writable])
        var events = Events(capacity: 4)

        // Send a repeating pattern until nothing more goes out for 300 ms.
        let chunk = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var sent = 0
        let limit = 256 << 20
        while sent < limit {
            do throws(Errno) {
                let offset = sent % 251
                sent += try stream.write(Array(chunk[offset...]))
            } catch {
                #expect(error == .wouldBlock)
                try poll.pollRetrying(&events, timeout: .milliseconds(300))
                if !events.contains(where: \.isWritable) { break }
            }
        }
        #expect(sent < 64 << 20, "the server kept reading: \(sent) bytes taken without being echoed")

        // Now read: the echo resumes and everything comes back intact.
        var received = 0
        var mismatches = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while received < sent, clock.now < deadline {
            do throws(Errno) {
                let count = try stream.read(into: &buffer)
                #expect(count > 0, "the server closed the connection")
                if count == 0 { break }
                for index in 0..<count where buffer[index] != UInt8(truncatingIfNeeded: (received + index) % 251) {
                    mismatches += 1
                }
                received += count
            } catch {
                #expect(error == .wouldBlock)
                try poll.pollRetrying(&events, timeout: .milliseconds(200))
            }
        }
        #expect(received == sent)
        #expect(mismatches == 0)
        server.signal(SIGTERM)
        #expect(server.waitForExit() == 0, "\(server.transcript)")
    }

    @Test func refusesBadArguments() throws {
        let server = try ExampleProcess("echo-server", ["--port", "not-a-port"], backend: .epoll)
        #expect(server.waitForExit() == 2)
        #expect(server.transcript.contains { $0.hasPrefix("usage:") })
    }
}

/// A client that sends a 64-byte message naming itself and the round, waits for the echo,
/// checks it, and repeats.
private final class EchoClient {
    let stream: TCPStream
    private(set) var completedRoundTrips = 0
    private(set) var mismatches = 0
    private var expected: [UInt8] = []
    private var received: [UInt8] = []
    private static let roundTrips = 10

    var isDone: Bool { completedRoundTrips == EchoClient.roundTrips }

    init(connectingTo address: SocketAddress) throws {
        stream = try TCPStream.connect(to: address)
    }

    func advance() throws {
        if expected.isEmpty, !isDone { try send() }
        var buffer = [UInt8](repeating: 0, count: 256)
        while !expected.isEmpty {
            guard let count = try readUnlessWouldBlock(into: &buffer) else { return }
            guard count > 0 else { throw Errno.connectionReset }
            received.append(contentsOf: buffer[..<count])
            guard received.count >= expected.count else { continue }
            if received != expected { mismatches += 1 }
            completedRoundTrips += 1
            received.removeAll()
            expected.removeAll()
            if !isDone { try send() }
        }
    }

    private func readUnlessWouldBlock(into buffer: inout [UInt8]) throws(Errno) -> Int? {
        do {
            return try stream.read(into: &buffer)
        } catch {
            guard error == .wouldBlock else { throw error }
            return nil
        }
    }

    private func send() throws {
        let text = "client \(ObjectIdentifier(self).hashValue) round \(completedRoundTrips) "
        expected = Array(text.utf8.prefix(64)) + [UInt8](repeating: UInt8(ascii: "."), count: max(0, 64 - text.utf8.count))
        // The connection may still be in progress: then the first writable event sends.
        do throws(Errno) {
            let written = try stream.write(expected)
            precondition(written == expected.count, "64 bytes fit in an empty socket buffer")
        } catch {
            guard error == .wouldBlock || error == .socketNotConnected else { throw error }
            expected.removeAll()
        }
    }
}
