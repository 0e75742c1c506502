import RingPoll

/// A single-threaded TCP echo server on one `Poll`: the listener, a stop source, and the
/// connections in a slab indexed by token.
///
/// Written to be copied: the loop lives in a struct's methods (no globals or class properties
/// on the hot path, so no dynamic exclusivity checks), events come edge-triggered, every read
/// goes into one buffer that is written straight back, and a steady echo allocates nothing.
struct EchoServer: ~Copyable {
    static let listenerToken = Token(0)
    static let stopToken = Token(1)
    private static let firstConnectionToken = 2

    private let poll: Poll
    private let listener: TCPListener
    private var connections: [Connection?] = []
    private var freeSlots: [Int] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// Registers `listener` and `stop` (any source that becomes readable when it is time to go).
    init(poll: Poll, listener: TCPListener, stop: some Source) throws(Errno) {
        self.poll = poll
        self.listener = listener
        try poll.registry.register(listener, token: EchoServer.listenerToken, interests: .readable)
        try poll.registry.register(stop, token: EchoServer.stopToken, interests: .readable)
        connections.reserveCapacity(1024)
        freeSlots.reserveCapacity(1024)
    }

    deinit {
        buffer.deallocate()
    }

    /// Serves until the stop source becomes readable. Dropping the server closes every
    /// connection (each stream deregisters and closes itself).
    mutating func run() throws(Errno) {
        var events = Events(capacity: 1024)
        while true {
            do throws(Errno) {
                try poll.poll(&events, timeout: nil)
            } catch {
                if error == .interrupted { continue }  // a signal arrived; the stop source says which
                throw error
            }
            for event in events {
                switch event.token {
                case EchoServer.stopToken:
                    return
                case EchoServer.listenerToken:
                    try acceptAll()
                default:
                    serve(slot: event.token.rawValue - EchoServer.firstConnectionToken)
                }
            }
        }
    }

    /// Edge-triggered: accept until the backlog is empty, or no event comes for the rest.
    private mutating func acceptAll() throws(Errno) {
        while let stream = acceptOne() {
            try? stream.setNoDelay(true)
            let slot = freeSlots.popLast() ?? connections.count
            if slot == connections.count { connections.append(nil) }
            // Writable too: a client that stopped reading is written to again once it drains.
            try poll.registry.register(stream, token: Token(EchoServer.firstConnectionToken + slot), interests: [.readable, .writable])
            connections[slot] = Connection(stream)
        }
    }

    private func acceptOne() -> TCPStream? {
        do throws(Errno) {
            return try listener.accept().0
        } catch {
            return nil  // would block, or a connection that failed before it was accepted
        }
    }

    private mutating func serve(slot: Int) {
        guard slot >= 0, slot < connections.count, connections[slot] != nil else { return }
        if !connections[slot]!.serve(using: buffer) {
            connections[slot] = nil  // the stream deregisters and closes; the client sees EOF
            freeSlots.append(slot)
        }
    }
}
