import Glibc
import Synchronization
import Testing
@testable import RingPoll

/// A message that says who sent it and its place in that sender's sequence.
struct StampedMessage: Sendable, Equatable {
    var sender: Int
    var sequence: Int
}

/// A handler that records every callback, with optional hooks for tests that act in them.
/// Hooks are plain closures: fine for tests, which do not count allocations with this handler.
struct RecordingHandler: EventHandler {
    typealias Message = StampedMessage
    typealias Timeout = Int

    struct Fired {
        var timeout: Int
        /// Monotonic nanoseconds when `timeout` was called.
        var at: UInt64
        /// The tick (0-based) it fired in.
        var tick: Int
    }

    var readies: [Event] = []
    var messages: [StampedMessage] = []
    var fired: [Fired] = []
    var interruptions = 0
    var ticks = 0
    /// Callbacks in order, as letters: r(eady) n(otify) t(imeout) i(nterrupted) k (tick).
    var trace = ""
    private var messagesThisTick = 0
    var mostMessagesInATick = 0
    var messageCountsPerTick: [Int] = []

    var onReady: ((inout RecordingHandler, EventLoop<RecordingHandler>, Event) -> Void)?
    var onNotify: ((inout RecordingHandler, EventLoop<RecordingHandler>, StampedMessage) -> Void)?
    var onTimeout: ((inout RecordingHandler, EventLoop<RecordingHandler>, Int) -> Void)?
    var onTick: ((inout RecordingHandler, EventLoop<RecordingHandler>) -> Void)?

    mutating func ready(_ eventLoop: EventLoop<RecordingHandler>, token: Token, event: Event) {
        #expect(token == event.token)
        readies.append(event)
        trace.append("r")
        if let onReady { onReady(&self, eventLoop, event) }
    }

    mutating func notify(_ eventLoop: EventLoop<RecordingHandler>, message: StampedMessage) {
        messages.append(message)
        messagesThisTick += 1
        trace.append("n")
        if let onNotify { onNotify(&self, eventLoop, message) }
    }

    mutating func timeout(_ eventLoop: EventLoop<RecordingHandler>, timeout: Int) {
        fired.append(Fired(timeout: timeout, at: MonotonicClock.now(), tick: ticks))
        trace.append("t")
        if let onTimeout { onTimeout(&self, eventLoop, timeout) }
    }

    mutating func interrupted(_ eventLoop: EventLoop<RecordingHandler>) {
        interruptions += 1
        trace.append("i")
    }

    mutating func tick(_ eventLoop: EventLoop<RecordingHandler>) {
        ticks += 1
        trace.append("k")
        mostMessagesInATick = max(mostMessagesInATick, messagesThisTick)
        if messagesThisTick > 0 { messageCountsPerTick.append(messagesThisTick) }
        messagesThisTick = 0
        if let onTick { onTick(&self, eventLoop) }
    }

    func readies(for token: Token) -> [Event] { readies.filter { $0.token == token } }
}

extension EventLoop {
    /// Runs ticks until `done` holds or `limit` passes; returns whether it held. Each tick waits
    /// at most 100 ms, so a missing event fails the test instead of hanging it.
    @discardableResult
    func runUntil(
        _ handler: inout Handler,
        within limit: Duration = .seconds(5),
        _ done: (Handler) -> Bool
    ) throws(Errno) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while !done(handler) {
            let left = end - clock.now
            if left <= .zero { return false }
            try runOnce(&handler, timeout: min(left, .milliseconds(100)))
        }
        return true
    }

    /// Runs ticks for `window` (to show that nothing more happens).
    func runFor(_ handler: inout Handler, _ window: Duration) throws(Errno) {
        let clock = ContinuousClock()
        let end = clock.now + window
        while true {
            let left = end - clock.now
            if left <= .zero { return }
            try runOnce(&handler, timeout: left)
        }
    }
}

extension EventLoop where Handler == RecordingHandler {
    /// One tick that a signal did not cut short: an interrupted tick (its poll ended with EINTR,
    /// as happens on a test-pool thread when a ring another test used on it is torn down) is
    /// redone, a few times at most.
    func runOnceUninterrupted(_ handler: inout RecordingHandler, timeout: Duration?) throws(Errno) {
        for _ in 0..<5 {
            let interruptions = handler.interruptions
            try runOnce(&handler, timeout: timeout)
            if handler.interruptions == interruptions { return }
        }
    }
}

/// Small system helpers for the event loop tests; in a namespace so they cannot clash with
/// other suites' helpers in this module.
enum LoopTestSupport {
    /// Waits with poll(2) until `fd` reports any of `events` or `limit` passes.
    @discardableResult
    static func wait(for fd: CInt, _ events: Int32 = POLLIN, within limit: Duration = .seconds(5)) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
        while true {
            let left = end - clock.now
            if left <= .zero { return false }
            let result = Glibc.poll(&entry, 1, milliseconds(left))
            if result > 0 { return true }
            if result < 0 && errno != EINTR { return false }
        }
    }

    /// A duration in whole milliseconds, rounded up (for poll(2)).
    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let value = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(0, value))
    }

    /// A loopback listener on a free port.
    static func listener() throws -> TCPListener {
        try TCPListener.bind(SocketAddress(ip: .loopbackV4, port: 0))
    }

    /// Connects to `address` and waits (poll(2)) until the connect has finished.
    static func connected(to address: SocketAddress) throws -> TCPStream {
        let stream = try TCPStream.connect(to: address)
        #expect(wait(for: stream.fileDescriptor, POLLOUT))
        return stream
    }

    /// Accepts one connection, waiting for it with poll(2).
    static func accept(from listener: TCPListener, within limit: Duration = .seconds(5)) throws -> TCPStream {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while true {
            if let stream = try acceptOne(listener, retryUntil: end) { return stream }
            wait(for: listener.fileDescriptor, POLLIN, within: end - clock.now)
        }
    }

    /// One accept: the stream, or nil on would-block while time is left (else the error).
    private static func acceptOne(_ listener: TCPListener, retryUntil end: ContinuousClock.Instant) throws(Errno) -> TCPStream? {
        do throws(Errno) {
            return try listener.accept().0
        } catch {
            guard error == .wouldBlock, ContinuousClock().now < end else { throw error }
            return nil
        }
    }

    /// One write: the count, or nil on would-block while time is left (else the error).
    private static func writeOnce(_ bytes: [UInt8], to stream: TCPStream, retryUntil end: ContinuousClock.Instant) throws(Errno) -> Int? {
        do throws(Errno) {
            return try stream.write(bytes)
        } catch {
            guard error == .wouldBlock, ContinuousClock().now < end else { throw error }
            return nil
        }
    }

    /// Sets SO_LINGER to 0 so that closing sends a reset instead of a FIN.
    static func setLingerZero(_ fd: CInt) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        let result = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        precondition(result == 0, "SO_LINGER failed: \(errno)")
    }

    /// Writes `bytes` completely (waiting with poll(2) while the socket is full).
    static func writeAll(_ bytes: [UInt8], to stream: TCPStream, within limit: Duration = .seconds(5)) throws {
        var offset = 0
        let clock = ContinuousClock()
        let end = clock.now + limit
        while offset < bytes.count {
            let rest = Array(bytes[offset...])
            if let written = try writeOnce(rest, to: stream, retryUntil: end) {
                offset += written
            } else {
                wait(for: stream.fileDescriptor, POLLOUT, within: end - clock.now)
            }
        }
    }
}

/// An integer one thread updates and another reads.
final class SharedInt: Sendable {
    let value = Atomic<Int>(0)
}

/// A flag one thread raises and another watches.
final class SharedFlag: Sendable {
    let value = Atomic<Bool>(false)
}
