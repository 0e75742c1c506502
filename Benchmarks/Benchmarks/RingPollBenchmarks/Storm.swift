import Benchmark
import RingPoll

/// Register+deregister storm: 1,000 idle sockets registered, a poll that does not wait,
/// all deregistered, another poll. One inner iteration is one register+deregister pair.
func registerStorm(_ backend: BenchBackend) {
    Benchmark("register+deregister storm, 1000 sockets (\(backend.rawValue))") { benchmark, fixture in
        var events = Events(capacity: 64)
        let poll = fixture.poll
        measured(benchmark) {
            for index in benchmark.scaledIterations {
                try! poll.registry.register(fixture.streams[index], token: Token(index), interests: .readable)
            }
            try! poll.poll(&events, timeout: .zero)
            for index in benchmark.scaledIterations {
                try! poll.registry.deregister(fixture.streams[index])
            }
            try! poll.poll(&events, timeout: .zero)
        }
    } setup: {
        try StormFixture(backend, count: 1_000)
    }
}

final class StormFixture {
    let poll: Poll
    let streams: [UnixStream]

    init(_ backend: BenchBackend, count: Int) throws {
        poll = backend.makePoll()
        var streams: [UnixStream] = []
        for _ in 0..<(count / 2) {
            let (first, second) = try UnixStream.pair()
            streams += [first, second]
        }
        self.streams = streams
    }
}
