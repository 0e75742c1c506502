import RingPoll

/// The echo server a RingPoll user would write: a listener and its connections on one `Poll`,
/// edge-triggered, every connection read until it is drained (a short read, or
/// `Errno.wouldBlock`) and answered at once, connections kept in a slab indexed by token (as mio
/// programs keep theirs).
struct RingPollEchoLoop: ~Copyable {
    static let listenerToken = Token(0)
    static let stopToken = Token(1)
    static let firstIdleToken = 2
    static let firstConnectionToken = 1 << 40

    private let poll: Poll
    private let listener: TCPListener
    private var connections: [TCPStream?] = []
    private var freeSlots: [Int] = []
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)

    init(poll: Poll, listener: TCPListener) {
        self.poll = poll
        self.listener = listener
        connections.reserveCapacity(2048)
        freeSlots.reserveCapacity(2048)
    }

    deinit {
        buffer.deallocate()
    }

    /// Serves until the stop waker fires, then closes every connection.
    mutating func run() throws(Errno) {
        var events = Events(capacity: 1024)
        while true {
            do {
                try poll.poll(&events, timeout: nil)
            } catch {
                if error == .interrupted { continue }
                throw error
            }
            for event in events {
                if event.token == RingPollEchoLoop.stopToken {
                    closeAll()
                    return
                }
                if event.token == RingPollEchoLoop.listenerToken {
                    try acceptAll()
                } else if event.token.rawValue >= RingPollEchoLoop.firstConnectionToken {
                    serve(slot: event.token.rawValue - RingPollEchoLoop.firstConnectionToken)
                }
            }
        }
    }

    private mutating func acceptAll() throws(Errno) {
        while let stream = acceptOne() {
            try? stream.setNoDelay(true)
            let slot = freeSlots.popLast() ?? connections.count
            if slot == connections.count { connections.append(nil) }
            try poll.registry.register(stream, token: Token(RingPollEchoLoop.firstConnectionToken + slot), interests: .readable)
            connections[slot] = stream
        }
    }

    private func acceptOne() -> TCPStream? {
        do {
            return try listener.accept().0
        } catch {
            return nil  // would block (or a connection that failed before it was accepted)
        }
    }

    private mutating func serve(slot: Int) {
        guard slot < connections.count, let stream = connections[slot] else { return }
        if !echoUntilDrained(stream) {
            try? stream.close()  // deregisters, then closes
            connections[slot] = nil
            freeSlots.append(slot)
        }
    }

    /// Reads until the socket is drained, writing back what was read. False when the connection
    /// ended (end of stream or an error). A read that does not fill the buffer drained the
    /// socket: anything that arrives later raises a new edge on Linux (epoll and io_uring alike),
    /// so the read that would only say `Errno.wouldBlock` is skipped, as tokio and SwiftNIO do.
    private func echoUntilDrained(_ stream: TCPStream) -> Bool {
        while true {
            let count = readSome(stream)
            if count == 0 { return false }
            if count < 0 { return count == RingPollEchoLoop.wouldBlock }
            guard writeAll(stream, count: count) else { return false }
            if count < buffer.count { return true }
        }
    }

    private static let wouldBlock = -1

    /// Bytes read, 0 at end of stream, -1 when it would block, -2 on an error.
    private func readSome(_ stream: TCPStream) -> Int {
        do {
            return try stream.read(into: buffer)
        } catch {
            return error == .wouldBlock ? RingPollEchoLoop.wouldBlock : -2
        }
    }

    /// A 64-byte answer always fits in the send buffer: a short write counts as a failure.
    private func writeAll(_ stream: TCPStream, count: Int) -> Bool {
        do {
            return try stream.write(UnsafeRawBufferPointer(rebasing: buffer[..<count])) == count
        } catch {
            return false
        }
    }

    private mutating func closeAll() {
        for stream in connections {
            try? stream?.close()
        }
        connections.removeAll()
    }
}
