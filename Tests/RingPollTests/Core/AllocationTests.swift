import CTestSupport
import Glibc
import Testing
@_spi(Tuning) @testable import RingPoll

/// Steady-state polling allocates nothing. Every malloc of the polling thread is counted by the
/// interposer in CTestSupport; 10,000 polls that each return events must add none.
@Suite(.enabled(if: MallocCounter.isUsable, "a sanitizer owns malloc in this build: the malloc counter is compiled out"))
struct AllocationTests {
    private static let iterations = 10_000

    @Test func interposerSeesAllocations() {
        #expect(rp_malloc_counter_is_active() == 1, "malloc is not interposed: the counts below would prove nothing")
    }

    /// One byte arrives on one of 64 sockets, the poll reports it, the byte is read: the poll,
    /// the event iteration and the re-arm paths run 10,000 times.
    @Test(arguments: TestBackends.withRingModes, [Trigger.edge, .level, .oneshot])
    func pollingWithEventsAllocatesNothing(target: BackendUnderTest, trigger: Trigger) throws {
        let poll = try target.makePoll()
        let pairs = (0..<64).map { _ in SocketPair() }
        for (index, pair) in pairs.enumerated() {
            try poll.registry.register(SourceFD(pair.local), token: Token(index), interests: .readable, trigger: trigger)
        }
        var events = Events(capacity: 64)
        let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        defer { byte.deallocate() }
        var delivered = 0

        func round(_ index: Int) throws {
            let pair = pairs[index % pairs.count]
            _ = write(pair.peer, byte, 1)
            try poll.pollRetrying(&events, timeout: .seconds(1))
            for event in events { delivered &+= event.token.rawValue &+ 1 }
            _ = read(pair.local, byte, 1)
            if trigger == .oneshot {
                try poll.registry.reregister(SourceFD(pair.local), token: Token(index % pairs.count), interests: .readable, trigger: .oneshot)
            }
        }
        for index in 0..<500 { try round(index) }  // warm up: lists reach their working size
        delivered = 0
        rp_malloc_counter_start()
        for index in 0..<AllocationTests.iterations { try round(index) }
        let allocations = rp_malloc_counter_stop()
        #expect(delivered > 0)
        #expect(allocations == 0, "\(allocations) allocations in \(AllocationTests.iterations) polls")
    }

    /// Readiness beyond the capacity is carried over; wakers wake. Still nothing allocated.
    @Test(arguments: TestBackends.all)
    func carryOverAndWakersAllocateNothing(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let sources = (0..<16).map { _ in ReadyEventFD() }
        defer { withExtendedLifetime(sources) {} }  // descriptors must outlive the test body, also when optimized
        for (index, source) in sources.enumerated() {
            try poll.registry.register(SourceFD(source.fd), token: Token(index), interests: .readable, trigger: .level)
        }
        let waker = try Waker(registry: poll.registry, token: Token(100))
        var events = Events(capacity: 4)
        for _ in 0..<500 {
            try waker.wake()
            try poll.pollRetrying(&events, timeout: .seconds(1))
        }
        rp_malloc_counter_start()
        var seen = 0
        for _ in 0..<AllocationTests.iterations {
            try waker.wake()
            try poll.pollRetrying(&events, timeout: .seconds(1))
            seen &+= events.count
        }
        let allocations = rp_malloc_counter_stop()
        #expect(seen == 4 * AllocationTests.iterations)
        #expect(allocations == 0, "\(allocations) allocations in \(AllocationTests.iterations) polls")
    }
}

/// The allocation suites skip themselves exactly when a sanitizer owns malloc; otherwise the
/// counter must really be in the allocation path.
@Suite struct MallocCounterTests {
    @Test func counterIsActiveUnlessASanitizerOwnsMalloc() {
        #expect((rp_malloc_counter_is_active() == 1) == MallocCounter.isUsable,
                "conflict: \(MallocCounter.conflictingSanitizer ?? "none")")
    }
}
