import Glibc
import Testing
@testable import RingPoll

// Helpers for the socket and pipe tests. Waits use poll(2) on one descriptor with a deadline, so a
// test that does not involve a RingPoll `Poll` still never sleeps and never hangs.

/// Waits until `fd` reports any of `events` (POLLIN by default) or `limit` passes. Returns
/// whether it did.
@discardableResult
func waitFor(_ fd: CInt, _ events: Int32 = POLLIN, within limit: Duration = .seconds(5)) -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + limit
    var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
    while true {
        let left = end - clock.now
        let milliseconds = max(0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        let result = Glibc.poll(&entry, 1, milliseconds)
        if result > 0 { return true }
        if result == 0 || (result < 0 && errno != EINTR) { return false }
    }
}

/// Retries `body` while it throws `Errno.wouldBlock`, waiting for `events` on `fd` in between,
/// for at most `limit` in all.
func retrying<Value>(
    _ fd: CInt, _ events: Int32 = POLLIN, within limit: Duration = .seconds(5),
    _ body: () throws(Errno) -> Value
) throws(Errno) -> Value {
    let clock = ContinuousClock()
    let end = clock.now + limit
    while true {
        do throws(Errno) {
            return try body()
        } catch {
            guard error == .wouldBlock, clock.now < end else { throw error }
            waitFor(fd, events, within: end - clock.now)
        }
    }
}

/// The outcome of a typed-throwing call, so `#expect` can compare errors without `any Error`.
func outcome<Value>(_ body: () throws(Errno) -> Value) -> Result<Value, Errno> {
    do throws(Errno) {
        return .success(try body())
    } catch {
        return .failure(error)
    }
}

/// The error `body` throws, or `nil` when it succeeds.
func thrown<Value>(_ body: () throws(Errno) -> Value) -> Errno? {
    if case .failure(let error) = outcome(body) { return error }
    return nil
}

/// A listener on 127.0.0.1 (or ::1) with an accepted connection: (client, server).
struct ConnectedTCP {
    let listener: TCPListener
    let client: TCPStream
    let server: TCPStream

    init(ipv6: Bool = false) throws {
        listener = try TCPListener.bind(SocketAddress(ip: ipv6 ? .loopbackV6 : .loopbackV4, port: 0))
        client = try TCPStream.connect(to: try listener.localAddress())
        let listener = listener
        (server, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
        #expect(waitFor(client.fileDescriptor, POLLOUT))
        #expect(client.takeError() == nil)
    }
}

/// A fresh path for a Unix socket in the temporary directory (nothing exists there yet). The
/// caller unlinks it when done.
func temporarySocketPath(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }.prefix(30)
    let path = "/tmp/rp-\(getpid())-\(clean)-\(UInt32.random(in: 0...UInt32.max)).sock"
    unlink(path)
    return path
}

/// A unique abstract socket name.
func temporaryAbstractName(_ name: String = #function) -> String {
    "ringpoll-test-\(getpid())-\(name.filter { $0.isLetter })-\(UInt32.random(in: 0...UInt32.max))"
}

/// `count` bytes of a pattern that differs from a run of one value, so misplaced bytes show.
func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}
