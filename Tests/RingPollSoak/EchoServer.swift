import Glibc
import Synchronization
@_spi(Tuning) import RingPoll

/// The server under test: an edge-triggered echo loop on one `Poll` with backpressure (a client
/// that reads slowly makes the server stop reading until its pending echo is written), plus the
/// registrar's sockets and the waker, whose events it checks against the ledger.
///
/// `run(until:)` serves for a while on the calling thread; the soak calls it on a new thread each
/// time, so the poll keeps moving threads (on io_uring: the ring is rebuilt each time).
final class EchoServer: @unchecked Sendable {  // one thread at a time, handed over by join
    static let listenerToken = 0
    static let wakerToken = 1
    private static let pendingLimit = 1 << 20

    let poll: Poll
    let listener: TCPListener
    private let ledger: CrossThreadLedger
    private let counters: SoakCounters
    private let failures: FailureLog
    private var connections: [Int: Connection] = [:]
    private var nextToken = 16
    private var events = Events(capacity: 256)
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    private final class Connection {
        let stream: TCPStream
        var pending: [UInt8] = []
        var offset = 0
        var watchingWritable = false
        /// Reading stopped before would-block (too much pending): read again once flushed.
        var needsRead = false
        var peerClosed = false

        init(_ stream: TCPStream) { self.stream = stream }
        var unsent: Int { pending.count - offset }
    }

    init(poll: Poll, ledger: CrossThreadLedger, counters: SoakCounters, failures: FailureLog) throws(Errno) {
        self.poll = poll
        self.ledger = ledger
        self.counters = counters
        self.failures = failures
        listener = try TCPListener.bind(SocketAddress(ip: .loopbackV4, port: 0))
        try poll.registry.register(listener, token: Token(EchoServer.listenerToken), interests: .readable)
    }

    var connectionCount: Int { connections.count }

    /// Serves on the calling thread until `deadline`.
    func run(until deadline: ContinuousClock.Instant) {
        let clock = ContinuousClock()
        while clock.now < deadline {
            let startEpoch = ledger.currentEpoch
            do throws(Errno) {
                try pollRetrying(poll, &events, .milliseconds(20))
            } catch {
                failures.record("server: poll threw \(error)")
                counters.add(.unexpectedErrors)
                return
            }
            var sawWaker = false
            for event in events {
                counters.add(.serverEvents)
                let token = event.token.rawValue
                if token == EchoServer.listenerToken {
                    accept()
                } else if token == EchoServer.wakerToken {
                    sawWaker = true
                } else if token >= Registrar.tokenBase {
                    if !ledger.sawEvent(token, startEpoch: startEpoch) {
                        failures.record("server: stale event \(event) for a retired registrar token")
                        counters.add(.staleEvents)
                    }
                } else if let connection = connections[token] {
                    service(connection, token: token)
                } else {
                    failures.record("server: event \(event) for no connection")
                    counters.add(.staleEvents)
                }
            }
            if sawWaker { ledger.wakeObserved(upTo: ledger.wakesRequested) }
        }
    }

    private func accept() {
        while true {
            do throws(Errno) {
                let (stream, _) = try listener.accept()
                let token = nextToken
                nextToken += 1
                try poll.registry.register(stream, token: Token(token), interests: .readable)
                let connection = Connection(stream)
                connections[token] = connection
                counters.add(.serverAccepts)
                service(connection, token: token)  // data may have arrived before the registration
            } catch {
                if error != .wouldBlock {
                    failures.record("server: accept threw \(error)")
                    counters.add(.unexpectedErrors)
                }
                return
            }
        }
    }

    private func service(_ connection: Connection, token: Int) {
        do throws(Errno) {
            try flush(connection)
            if connection.unsent == 0 || connection.needsRead || !connection.watchingWritable {
                try readAndEcho(connection)
            }
            if connection.peerClosed && connection.unsent == 0 {
                drop(token)  // the client half-closed or closed: all is echoed, so end it
                return
            }
            let wantsWritable = connection.unsent > 0
            if wantsWritable != connection.watchingWritable {
                connection.watchingWritable = wantsWritable
                try poll.registry.reregister(connection.stream, token: Token(token), interests: wantsWritable ? [.readable, .writable] : .readable)
            }
        } catch {
            // A client that reset its connection, or closed it while its echo was pending.
            if error != .connectionReset && error != .brokenPipe {
                failures.record("server: connection \(token): \(error)")
                counters.add(.unexpectedErrors)
            }
            drop(token)
        }
    }

    private func readAndEcho(_ connection: Connection) throws(Errno) {
        connection.needsRead = false
        while !connection.peerClosed {
            if connection.unsent >= EchoServer.pendingLimit {
                connection.needsRead = true
                return
            }
            let count: Int
            do throws(Errno) {
                count = try connection.stream.read(into: &buffer)
            } catch {
                if error == .wouldBlock { return }
                throw error
            }
            if count == 0 {
                connection.peerClosed = true
                return
            }
            connection.pending.append(contentsOf: buffer[..<count])
            try flush(connection)
        }
    }

    private func flush(_ connection: Connection) throws(Errno) {
        while connection.unsent > 0 {
            let result: Result<Int, Errno> = connection.pending.withUnsafeBytes { bytes in
                do throws(Errno) {
                    return .success(try connection.stream.write(UnsafeRawBufferPointer(rebasing: bytes[connection.offset...])))
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(.wouldBlock) = result { break }
            connection.offset += try result.get()
        }
        if connection.offset == connection.pending.count {
            connection.pending.removeAll(keepingCapacity: connection.pending.capacity <= 262_144)
            connection.offset = 0
        } else if connection.offset > 262_144 {
            connection.pending.removeFirst(connection.offset)
            connection.offset = 0
        }
    }

    private func drop(_ token: Int) {
        guard let connection = connections.removeValue(forKey: token) else { return }
        try? connection.stream.close()  // deregisters
    }

    /// Closes every connection and the listener (the soak is over).
    func shutdown() {
        for token in Array(connections.keys) { drop(token) }
        try? listener.close()
    }
}
