import Benchmark
import CMeasure
import Glibc
import RingPoll
import Synchronization

/// Waker round trip between two threads: this thread wakes the partner's poll, the partner
/// wakes this thread's poll back, and this thread's `poll` returns. System calls of both threads
/// are counted.
func registerWakerRoundTrip(_ backend: BenchBackend) {
    Benchmark(
        "Waker round trip, 2 threads (\(backend.rawValue))",
        configuration: .init(thresholds: zeroMallocs())
    ) { benchmark, fixture in
        var events = Events(capacity: 8)
        measured(benchmark, countingAlso: [fixture.partnerThread]) {
            for _ in benchmark.scaledIterations {
                try! fixture.partnerWaker.wake()
                repeat {
                    try! fixture.poll.poll(&events, timeout: nil)
                } while events.isEmpty
            }
        }
    } setup: {
        try WakerFixture(backend)
    }
}

/// This thread's poll and waker, and a partner thread that answers every wake with a wake.
final class WakerFixture {
    let poll: Poll
    let partnerWaker: Waker
    let partnerThread: pid_t
    private let partner: Partner
    private let handle: pthread_t

    init(_ backend: BenchBackend) throws {
        poll = backend.makePoll()
        partner = Partner(backend: backend, answer: try Waker(registry: poll.registry, token: Token(1)))
        handle = startPartner(partner)
        (partnerWaker, partnerThread) = partner.waitUntilStarted()
    }

    deinit {
        partner.stopRequested.store(true, ordering: .releasing)
        try? partnerWaker.wake()
        pthread_join(handle, nil)
    }
}

/// The partner thread: polls its own `Poll` and answers each wake-up by waking `answer`.
final class Partner: @unchecked Sendable {
    let backend: BenchBackend
    let answer: Waker
    let stopRequested = Atomic<Bool>(false)
    private let started = Mutex<(Waker, pid_t)?>(nil)

    init(backend: BenchBackend, answer: Waker) {
        self.backend = backend
        self.answer = answer
    }

    func run() {
        let poll = backend.makePoll()
        let waker = try! Waker(registry: poll.registry, token: Token(2))
        started.withLock { $0 = (waker, rpm_gettid()) }
        var events = Events(capacity: 8)
        while !stopRequested.load(ordering: .acquiring) {
            try! poll.poll(&events, timeout: nil)
            if !events.isEmpty && !stopRequested.load(ordering: .acquiring) { try! answer.wake() }
        }
    }

    func waitUntilStarted() -> (Waker, pid_t) {
        while true {
            if let value = started.withLock({ $0 }) { return value }
            sched_yield()
        }
    }
}

// pthread_create lives in a free function (see Sources/RingPollBench/Support/OSThread.swift).
private func startPartner(_ partner: Partner) -> pthread_t {
    var handle = pthread_t()
    let created = pthread_create(&handle, nil, partnerMain, Unmanaged.passRetained(partner).toOpaque())
    precondition(created == 0, "pthread_create failed: \(created)")
    return handle
}

private func partnerMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<Partner>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}
