import Glibc
import Testing
@testable import RingPoll

/// A line-oriented TCP client for talking to an example server.
final class LoopLineClient {
    let stream: TCPStream
    private var pending = LineBuffer()
    private var closed = false

    init(connectingTo address: SocketAddress) throws {
        stream = try LoopTestSupport.connected(to: address)
        #expect(stream.takeError() == nil)
    }

    func send(_ text: String) throws {
        try LoopTestSupport.writeAll(Array(text.utf8), to: stream)
    }

    /// The next line, or nil on end of stream or when `limit` passes.
    func nextLine(within limit: Duration = .seconds(10)) -> String? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while true {
            if let line = pending.nextLine() { return line }
            if closed || clock.now >= end { return nil }
            _ = LoopTestSupport.wait(for: stream.fileDescriptor, POLLIN, within: end - clock.now)
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                do throws(Errno) {
                    let count = try stream.read(into: &chunk)
                    if count == 0 { closed = true; break }
                    pending.append(chunk[..<count])
                } catch {
                    if error != .wouldBlock { closed = true }
                    break
                }
            }
        }
    }

    /// Lines until one equal to `expected` (returning the ones skipped before it), or nil.
    func skip(until expected: String, within limit: Duration = .seconds(10)) -> [String]? {
        var skipped: [String] = []
        let clock = ContinuousClock()
        let end = clock.now + limit
        while let line = nextLine(within: end - clock.now) {
            if line == expected { return skipped }
            skipped.append(line)
        }
        return nil
    }

    /// Whether the server closed the connection (end of stream) within `limit`; lines before
    /// it are returned through `remaining`.
    func waitForEnd(within limit: Duration = .seconds(10), remaining: inout [String]) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while let line = nextLine(within: end - clock.now) { remaining.append(line) }
        return closed
    }
}
