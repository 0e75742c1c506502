import Benchmark
import RingPoll

/// Ping-pong over a socketpair on one thread: 64 bytes written on one end, `poll` reports the
/// other end readable, it is read until it would block and answers, `poll` reports the first end,
/// which reads the answer. One inner iteration is one round trip (two polls).
func registerSocketPairPingPong(_ backend: BenchBackend) {
    Benchmark(
        "ping-pong over a socketpair (\(backend.rawValue))",
        configuration: .init(thresholds: zeroMallocs())
    ) { benchmark, fixture in
        measured(benchmark) {
            for _ in benchmark.scaledIterations {
                fixture.roundTrip()
            }
        }
    } setup: {
        try PingPongFixture(backend)
    }
}

final class PingPongFixture {
    let poll: Poll
    let left: UnixStream
    let right: UnixStream
    private var events = Events(capacity: 8)
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    private let message = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)

    init(_ backend: BenchBackend) throws {
        poll = backend.makePoll()
        (left, right) = try UnixStream.pair()
        message.initializeMemory(as: UInt8.self, repeating: 7)
        try poll.registry.register(left, token: Token(0), interests: .readable)
        try poll.registry.register(right, token: Token(1), interests: .readable)
    }

    deinit {
        buffer.deallocate()
        message.deallocate()
    }

    func roundTrip() {
        _ = try! left.write(UnsafeRawBufferPointer(message))
        waitAndDrain(right, token: Token(1))
        _ = try! right.write(UnsafeRawBufferPointer(message))
        waitAndDrain(left, token: Token(0))
    }

    /// Polls until `token` is readable, then reads until the socket would block.
    private func waitAndDrain(_ stream: UnixStream, token: Token) {
        var ready = false
        while !ready {
            try! poll.poll(&events, timeout: nil)
            for event in events where event.token == token { ready = true }
        }
        while readSome(stream) > 0 {}
    }

    private func readSome(_ stream: UnixStream) -> Int {
        do {
            return try stream.read(into: buffer)
        } catch {
            return 0
        }
    }
}
