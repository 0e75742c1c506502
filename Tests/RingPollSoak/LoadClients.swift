import Glibc
import Synchronization
@_spi(Tuning) import RingPoll

/// The load: a fixed number of concurrent TCP clients on their own `Poll` (same backend), each
/// sending a seeded byte stream and verifying every echoed byte, in four behaviours:
/// normal (send, read the echo, close), half-close (shut down writing after the last byte, read
/// the whole echo, then end of stream), slow reader (reads 512 bytes every 10 ms, so the server's
/// backpressure path runs), and reset (SO_LINGER 0 close in the middle: an RST for the server).
final class LoadClients: @unchecked Sendable {  // its own thread only
    enum Behaviour: CaseIterable { case normal, halfClose, slowReader, reset }

    private final class Client {
        let stream: TCPStream
        let behaviour: Behaviour
        let seed: UInt64
        let planned: Int
        let resetAt: Int
        var connected = false
        var sent = 0
        var received = 0
        var shutDown = false
        var lastProgress: ContinuousClock.Instant

        init(_ stream: TCPStream, _ behaviour: Behaviour, seed: UInt64, planned: Int, resetAt: Int, now: ContinuousClock.Instant) {
            self.stream = stream
            self.behaviour = behaviour
            self.seed = seed
            self.planned = planned
            self.resetAt = resetAt
            lastProgress = now
        }
    }

    private let poll: Poll
    private let address: SocketAddress
    private let concurrency: Int
    private let counters: SoakCounters
    private let failures: FailureLog
    private var clients: [Int: Client] = [:]
    private var nextToken = 1
    private var random: SoakRandom
    private var events = Events(capacity: 256)
    private var buffer = [UInt8](repeating: 0, count: 65_536)
    private var outgoing = [UInt8](repeating: 0, count: 16_384)
    private let clock = ContinuousClock()

    init(backend: Backend, address: SocketAddress, concurrency: Int, counters: SoakCounters, failures: FailureLog, seed: UInt64) throws(Errno) {
        poll = try Poll(backend: backend)
        self.address = address
        self.concurrency = concurrency
        self.counters = counters
        self.failures = failures
        random = SoakRandom(seed: seed)
    }

    func run(stop: StopFlag) {
        var lastSlowTick = clock.now
        while !stop.isSet {
            while clients.count < concurrency { open() }
            do throws(Errno) {
                try pollRetrying(poll, &events, .milliseconds(5))
            } catch {
                failures.record("clients: poll threw \(error)")
                counters.add(.unexpectedErrors)
                return
            }
            for event in events {
                if let client = clients[event.token.rawValue] { service(client, token: event.token.rawValue, slowTick: false) }
            }
            let now = clock.now
            if now - lastSlowTick >= .milliseconds(10) {
                lastSlowTick = now
                for (token, client) in clients where client.behaviour == .slowReader {
                    service(client, token: token, slowTick: true)
                }
                for (token, client) in clients where now - client.lastProgress > .seconds(30) {
                    failures.record("clients: \(client.behaviour) connection stuck for 30 s at \(client.sent) sent, \(client.received) of \(client.planned) echoed")
                    counters.add(.stuckConnections)
                    drop(token)
                }
            }
        }
        for token in Array(clients.keys) { drop(token) }
    }

    private func open() {
        let behaviour = Behaviour.allCases.randomElement(using: &random)!
        let planned = Int.random(in: 0..<10, using: &random) == 0 ? Int.random(in: 262_144...2_097_152, using: &random)
                                                                   : Int.random(in: 1...65_536, using: &random)
        do throws(Errno) {
            let stream = try TCPStream.connect(to: address)
            let token = nextToken
            nextToken += 1
            try poll.registry.register(stream, token: Token(token), interests: [.readable, .writable])
            clients[token] = Client(stream, behaviour, seed: random.next(), planned: planned,
                                    resetAt: Int.random(in: 0...planned, using: &random), now: clock.now)
        } catch {
            failures.record("clients: connect threw \(error)")
            counters.add(.unexpectedErrors)
        }
    }

    private func service(_ client: Client, token: Int, slowTick: Bool) {
        if !client.connected {
            if let error = client.stream.takeError() {
                failures.record("clients: connect failed: \(error)")
                counters.add(.unexpectedErrors)
                drop(token)
                return
            }
            guard (try? client.stream.peerAddress()) != nil else { return }  // still connecting
            client.connected = true
        }
        do throws(Errno) {
            try send(client)
            if client.behaviour == .reset && client.sent >= client.resetAt {
                reset(token)
                return
            }
            if client.behaviour == .halfClose && client.sent == client.planned && !client.shutDown {
                try client.stream.shutdown(.write)
                client.shutDown = true
            }
            if client.behaviour != .slowReader || slowTick {
                if try receive(client, limit: client.behaviour == .slowReader ? 512 : Int.max) {
                    finish(token, client)
                }
            }
        } catch {
            failures.record("clients: \(client.behaviour) connection: \(error) at \(client.sent) sent, \(client.received) of \(client.planned) echoed")
            counters.add(.unexpectedErrors)
            drop(token)
        }
    }

    private func send(_ client: Client) throws(Errno) {
        let limit = client.behaviour == .reset ? client.resetAt : client.planned
        while client.sent < limit {
            let count = min(outgoing.count, limit - client.sent)
            for index in 0..<count { outgoing[index] = streamByte(client.seed, client.sent + index) }
            let result: Result<Int, Errno> = outgoing.withUnsafeBytes { bytes in
                do throws(Errno) {
                    return .success(try client.stream.write(UnsafeRawBufferPointer(rebasing: bytes[..<count])))
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(.wouldBlock) = result { return }
            client.sent += try result.get()
            client.lastProgress = clock.now
        }
    }

    /// Reads and verifies the echo; true once the connection has reached its end.
    private func receive(_ client: Client, limit: Int) throws(Errno) -> Bool {
        var left = limit
        while left > 0 {
            let result: Result<Int, Errno> = buffer.withUnsafeMutableBytes { bytes in
                do throws(Errno) {
                    return .success(try client.stream.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<min(bytes.count, left)])))
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(.wouldBlock) = result { return false }
            let count = try result.get()
            if count == 0 {
                // End of stream from the server: only after the whole echo (half-close).
                if client.received != client.planned || client.behaviour != .halfClose {
                    failures.record("clients: \(client.behaviour) connection ended after \(client.received) of \(client.planned) bytes")
                    counters.add(.lostBytes)
                }
                return true
            }
            for index in 0..<count where buffer[index] != streamByte(client.seed, client.received + index) {
                failures.record("clients: byte \(client.received + index) of a \(client.behaviour) stream is \(buffer[index]), expected \(streamByte(client.seed, client.received + index))")
                counters.add(.byteMismatches)
                return true
            }
            client.received += count
            counters.add(.bytesVerified, count)
            client.lastProgress = clock.now
            left -= count
            if client.received > client.planned {
                failures.record("clients: \(client.received - client.planned) bytes more than were sent")
                counters.add(.byteMismatches)
                return true
            }
            if client.received == client.planned && client.behaviour != .halfClose { return true }
        }
        return false
    }

    private func finish(_ token: Int, _ client: Client) {
        if client.received == client.planned {
            switch client.behaviour {
            case .normal: counters.add(.connectionsDone)
            case .halfClose: counters.add(.halfClosesDone)
            case .slowReader: counters.add(.slowReadersDone)
            case .reset: break
            }
        }
        drop(token)
    }

    private func reset(_ token: Int) {
        guard let client = clients[token] else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(client.stream.fileDescriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        counters.add(.resetsDone)
        drop(token)
    }

    private func drop(_ token: Int) {
        guard let client = clients.removeValue(forKey: token) else { return }
        try? client.stream.close()
    }
}
