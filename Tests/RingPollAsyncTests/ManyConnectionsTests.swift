import Glibc
import RingPoll
import RingPollAsync
import Testing

/// The issue's load test: 1,000 connections on one executor, each doing 10,000 verified round
/// trips (8 messages in flight per connection, each sent, echoed and checked) through the
/// example's echo service (one task per connection). The client is a plain RingPoll poll loop on
/// a thread of its own, so that it costs little and never runs on the executor under test.
///
/// It keeps both CPUs busy for half a minute or more, which makes the suite's timing tests
/// (sub-millisecond poll timeouts, timer order) miss their bounds if it runs beside them; so it
/// runs in a `swift test` of its own, with `RINGPOLL_ASYNC_LOAD=1` (`.ci/run` does that on each
/// backend), and is skipped otherwise.
@Suite(.serialized, .enabled(if: getenv("RINGPOLL_ASYNC_LOAD") != nil, "set RINGPOLL_ASYNC_LOAD=1 to run the load test"))
struct ManyConnectionsTests {
    static let connections = 1_000
    static let roundTrips = getenv("RINGPOLL_ASYNC_ROUND_TRIPS").flatMap { Int(String(cString: $0)) } ?? 10_000

    @Test(arguments: AsyncTestBackends.all)
    func thousandConnectionsTenThousandRoundTripsEach(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (listener, server) = try startEchoServer(on: executor)
            let address = try listener.localAddress()
            let started = ContinuousClock.now
            let client = ClientThread { EchoLoad.run(backend: backend, address: address,
                                                     connections: Self.connections, roundTrips: Self.roundTrips,
                                                     limit: .seconds(600)) }
            let report = try #require(await client.value(within: .seconds(660)), "the client did not finish")
            let elapsed = ContinuousClock.now - started
            print("ManyConnectionsTests (\(backend)): \(Self.connections) connections × \(Self.roundTrips) round trips in \(elapsed)")
            #expect(report.failure == nil, "\(report.failure ?? "")")
            #expect(report.completed == Self.connections * Self.roundTrips)
            #expect(report.mismatches == 0)
            try listener.close()
            _ = try await within(.seconds(30), "the server ending") { await server.value }
        }
    }
}

/// The client of the load test.
enum EchoLoad {
    struct Report: Sendable {
        var completed = 0
        var mismatches = 0
        var failure: String?
    }

    static let messageSize = 16
    /// Messages in flight per connection: each is a round trip of its own (sent, echoed,
    /// checked), and a window of them lets one read or write carry several.
    static let window = getenv("RINGPOLL_ASYNC_WINDOW").flatMap { Int(String(cString: $0)) } ?? 8

    /// One connection: sends (connection, sequence) as 16 bytes, waits for them to come back,
    /// checks them, and sends the next.
    final class Connection {
        let stream: TCPStream
        let index: Int
        /// The next sequence number to check, and the next to send.
        var sequence = 0
        var nextToSend = 0
        var received = 0
        let inbox = UnsafeMutableRawBufferPointer.allocate(byteCount: EchoLoad.messageSize * EchoLoad.window, alignment: 8)
        let outbox = UnsafeMutableRawBufferPointer.allocate(byteCount: EchoLoad.messageSize * EchoLoad.window, alignment: 8)
        var outboxCount = 0
        var sent = 0
        var connected = false

        init(_ stream: TCPStream, index: Int) {
            self.stream = stream
            self.index = index
        }

        deinit {
            inbox.deallocate()
            outbox.deallocate()
        }

        /// Fills the window with new messages once the previous batch is sent.
        func prepare(roundTrips: Int) {
            guard sent == outboxCount else { return }
            outboxCount = 0
            sent = 0
            while nextToSend < roundTrips, nextToSend - sequence < EchoLoad.window {
                outbox.storeBytes(of: UInt64(index), toByteOffset: outboxCount, as: UInt64.self)
                outbox.storeBytes(of: UInt64(nextToSend), toByteOffset: outboxCount + 8, as: UInt64.self)
                outboxCount += EchoLoad.messageSize
                nextToSend += 1
            }
        }

        /// Returns round trips completed by this event.
        func advance(_ event: Event, roundTrips: Int, report: inout Report) throws(Errno) {
            if !connected {
                guard event.isWritable || event.isError else { return }
                if let error = stream.takeError() { throw error }
                connected = true
                prepare(roundTrips: roundTrips)
            }
            while true {
                if sent < outboxCount {
                    sent += try writeUnlessWouldBlock(stream, UnsafeRawBufferPointer(rebasing: outbox[sent..<outboxCount]))
                    if sent < outboxCount { return }
                }
                guard sequence < roundTrips else { return }
                guard let count = try readUnlessWouldBlock(stream, UnsafeMutableRawBufferPointer(rebasing: inbox[received...])) else { return }
                if count == 0 { throw Errno.connectionReset }
                received += count
                var offset = 0
                while received - offset >= EchoLoad.messageSize {
                    if inbox.load(fromByteOffset: offset, as: UInt64.self) != UInt64(index)
                        || inbox.load(fromByteOffset: offset + 8, as: UInt64.self) != UInt64(sequence) {
                        report.mismatches += 1
                    }
                    report.completed += 1
                    sequence += 1
                    offset += EchoLoad.messageSize
                }
                // Keep a partial message at the front.
                if offset > 0 {
                    (inbox.baseAddress! ).copyMemory(from: inbox.baseAddress! + offset, byteCount: received - offset)
                    received -= offset
                }
                prepare(roundTrips: roundTrips)
            }
        }

    }

    static func run(backend: Backend, address: SocketAddress, connections: Int, roundTrips: Int, limit: Duration) -> Report {
        var report = Report()
        do throws(Errno) {
            let poll = try Poll(backend: backend)
            var clients: [Connection] = []
            for index in 0..<connections {
                let stream = try TCPStream.connect(to: address)
                try stream.setNoDelay(true)
                try poll.registry.register(stream, token: Token(index), interests: [.readable, .writable])
                clients.append(Connection(stream, index: index))
            }
            var events = Events(capacity: 1024)
            let clock = ContinuousClock()
            let end = clock.now + limit
            let goal = connections * roundTrips
            while report.completed < goal {
                guard clock.now < end else {
                    report.failure = "timed out after \(report.completed) of \(goal) round trips"
                    return report
                }
                try pollRetrying(poll, &events, timeout: .milliseconds(500))
                for event in events {
                    try clients[event.token.rawValue].advance(event, roundTrips: roundTrips, report: &report)
                }
            }
        } catch {
            report.failure = "client error \(error)"
        }
        return report
    }
}

