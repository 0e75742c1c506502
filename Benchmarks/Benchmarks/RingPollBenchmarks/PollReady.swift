import Benchmark
import RingPoll

/// `poll` returning N ready sources: N readable socketpair ends registered level-triggered, so
/// every poll reports all of them (io_uring re-arms N single-shot polls per call; epoll returns
/// them from its ready list).
func registerPollReady(_ backend: BenchBackend, sources: Int) {
    Benchmark(
        "poll, \(sources) ready (level) (\(backend.rawValue))",
        configuration: .init(thresholds: zeroMallocs())
    ) { benchmark, fixture in
        var events = Events(capacity: sources)
        measured(benchmark) {
            for _ in benchmark.scaledIterations {
                try! fixture.poll.poll(&events, timeout: nil)
                precondition(events.count == sources)
            }
        }
    } setup: {
        try ReadyFixture(backend, sources: sources)
    }
}

/// N socketpairs, one end of each readable and registered with the poll.
final class ReadyFixture {
    let poll: Poll
    let pairs: [(UnixStream, UnixStream)]

    init(_ backend: BenchBackend, sources: Int) throws {
        poll = backend.makePoll()
        pairs = try (0..<sources).map { _ in try UnixStream.pair() }
        for (index, (reader, writer)) in pairs.enumerated() {
            _ = try writer.write([1])
            try poll.registry.register(reader, token: Token(index), interests: .readable, trigger: .level)
        }
        var events = Events(capacity: sources)
        try poll.poll(&events, timeout: nil)  // arms everything on this thread
    }
}
