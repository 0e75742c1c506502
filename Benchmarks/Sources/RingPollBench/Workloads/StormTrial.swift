import CMeasure
import CRawLoops
import RingPoll

/// The storm's sockets: idle socketpairs, as RingPoll streams (for the RingPoll columns) and as
/// the same raw descriptors (for the C columns).
final class StormSockets {
    let streams: [UnixStream]
    let descriptors: UnsafeMutableBufferPointer<Int32>

    init(count: Int) throws(BenchError) {
        let raw = try SocketPairs(descriptors: count).handOver()
        var streams: [UnixStream] = []
        streams.reserveCapacity(raw.count)
        for fd in raw {
            do throws(Errno) {
                streams.append(try UnixStream(adopting: fd))
            } catch {
                throw BenchError("UnixStream(adopting:): \(error)")
            }
        }
        self.streams = streams
        descriptors = .allocate(capacity: max(1, raw.count))
        _ = descriptors.initialize(from: raw)
    }

    var count: Int { streams.count }

    deinit {
        descriptors.deallocate()  // the streams close the descriptors
    }
}

/// One storm trial on the calling thread: register every socket, poll without waiting,
/// deregister every socket, poll again; repeated until the duration has passed. One operation
/// is one register+deregister pair.
func runStormTrial(_ implementation: Implementation, sockets: StormSockets, count: Int, plan: TrialPlan,
                   counting: ThreadCounting) throws(BenchError) -> TrialResult {
    let duration = UInt64(plan.durationMilliseconds) * 1_000_000
    let counters = plan.countsSyscalls ? counting.start(threads: [0]) : nil
    let cpuBefore = rpm_self_cpu_ns()
    let start = nowNanoseconds()
    let pairs: Int64
    switch implementation {
    case .cEpoll:
        pairs = rl_epoll_storm(sockets.descriptors.baseAddress, Int32(count), duration)
    case .cIOUring:
        pairs = rl_uring_storm(sockets.descriptors.baseAddress, Int32(count), duration)
    case .ringPollIOUring, .ringPollEpoll:
        pairs = try ringPollStorm(implementation.ringPollBackend!, sockets.streams[..<count], duration: duration)
    case .swiftNIO, .exampleIOUring, .exampleEpoll, .asyncIOUring, .asyncEpoll, .swiftNIOAsync:
        throw BenchError("\(implementation.title) has no registration API to storm")
    }
    let elapsed = nowNanoseconds() - start
    let cpu = rpm_self_cpu_ns() - cpuBefore
    let counts = counters?.stop()
    guard pairs >= 0 else { throw BenchError("\(implementation.title) storm", errno: Int32(-pairs)) }
    return TrialResult(operations: UInt64(pairs), elapsedNanoseconds: elapsed, serverCPUNanoseconds: cpu,
                       p50Nanoseconds: nil, p99Nanoseconds: nil, syscalls: counts?.syscalls ?? nil, mallocs: counts?.mallocs ?? nil)
}

/// The storm as a RingPoll user writes it. (The compiler still retains and releases each stream
/// it indexes around the call, about 29 ns of a pair; a for-in loop does the same.)
private func ringPollStorm(_ backend: Backend, _ streams: ArraySlice<UnixStream>, duration: UInt64) throws(BenchError) -> Int64 {
    do throws(Errno) {
        let poll = try Poll(backend: backend)
        let registry = poll.registry
        var events = Events(capacity: 64)
        let deadline = nowNanoseconds() + duration
        var pairs: Int64 = 0
        repeat {
            for index in streams.indices {
                try registry.register(streams[index], token: Token(index), interests: .readable)
            }
            try poll.poll(&events, timeout: .zero)
            for index in streams.indices {
                try registry.deregister(streams[index])
            }
            try poll.poll(&events, timeout: .zero)
            pairs += Int64(streams.count)
        } while nowNanoseconds() < deadline
        return pairs
    } catch {
        throw BenchError("RingPoll \(backend) storm: \(error)")
    }
}
