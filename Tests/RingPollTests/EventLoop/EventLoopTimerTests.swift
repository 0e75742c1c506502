import Testing
@testable import RingPoll

/// Timers: order, precision (never early, at most one granule late), single firing, cancelling,
/// scale, and the poll timeout following the next deadline. Timing-sensitive, so serialized.
@Suite(.serialized) struct EventLoopTimerTests {
    private func makeLoop(_ backend: Backend, granularity: Duration = .milliseconds(1)) throws -> EventLoop<RecordingHandler> {
        try EventLoop(configuration: .init(timerGranularity: granularity), backend: backend)
    }

    /// Timers set in a shuffled order fire in deadline order (ties in the order they were set),
    /// each once, never before its deadline, and typically within a granule of it.
    @Test(arguments: TestBackends.all)
    func timersFireInOrderAndNeverEarly(backend: Backend) throws {
        let loop = try makeLoop(backend)
        var handler = RecordingHandler()
        // 60 timers over 1...30 ms, two per delay, set in a shuffled order.
        var delays = (0..<60).map { $0 / 2 + 1 }
        delays.shuffle()
        // The loop reads the clock inside `setTimeout`, so each deadline lies between `expected`
        // (clock before the call + delay) and `latest` (clock after the call + delay).
        var expected: [Int: UInt64] = [:]
        var latest: [Int: UInt64] = [:]
        var setOrder: [Int: Int] = [:]
        for (order, delay) in delays.enumerated() {
            let id = order
            expected[id] = MonotonicClock.now() + UInt64(delay) * 1_000_000
            setOrder[id] = order
            _ = loop.setTimeout(id, after: .milliseconds(delay))
            latest[id] = MonotonicClock.now() + UInt64(delay) * 1_000_000
        }
        #expect(try loop.runUntil(&handler) { $0.fired.count == 60 })
        try loop.runFor(&handler, .milliseconds(20))
        #expect(handler.fired.count == 60, "a timer fired twice")
        #expect(Set(handler.fired.map(\.timeout)).count == 60)

        for fire in handler.fired {
            #expect(fire.at >= expected[fire.timeout]!, "timer \(fire.timeout) fired early")
        }
        // Deadline order: a timer that fired first cannot have a deadline surely later than the
        // next one's; equal delays fire in set order.
        for (a, b) in zip(handler.fired, handler.fired.dropFirst()) {
            #expect(expected[a.timeout]! <= latest[b.timeout]!,
                    "timer \(a.timeout) (\(delays[a.timeout]) ms) fired before \(b.timeout) (\(delays[b.timeout]) ms)")
            if delays[a.timeout] == delays[b.timeout] { #expect(setOrder[a.timeout]! < setOrder[b.timeout]!) }
        }
        // Lateness: the loop adds at most one granule; the rest is scheduling. Median and a
        // generous maximum, as the suite shares two cores with others.
        let lateness = handler.fired.map { Double($0.at - expected[$0.timeout]!) / 1e6 }.sorted()
        #expect(lateness[lateness.count / 2] < 5, "median lateness \(lateness[lateness.count / 2]) ms")
        #expect(lateness.last! < 200, "worst lateness \(lateness.last!) ms")
    }

    /// With a coarse granularity, deadlines round up to the granule: never early, never more
    /// than one granule late (plus scheduling), and timers of one granule share one wake-up.
    @Test(arguments: TestBackends.all)
    func coarseGranularityRoundsUpAndCoalesces(backend: Backend) throws {
        let granule: UInt64 = 50_000_000
        let loop = try makeLoop(backend, granularity: .milliseconds(50))
        var handler = RecordingHandler()
        let start = MonotonicClock.now()
        // Ten timers inside one 50 ms granule (deadlines 1...10 ms after the next boundary).
        let boundary = (start / granule + 1) * granule
        var deadlines: [UInt64] = []
        for id in 0..<10 {
            let deadline = boundary + UInt64(id + 1) * 1_000_000
            deadlines.append(deadline)
            _ = loop.setTimeout(id, after: .nanoseconds(Int64(deadline - MonotonicClock.now())))
        }
        #expect(try loop.runUntil(&handler) { $0.fired.count == 10 })
        #expect(handler.fired.map(\.timeout) == Array(0..<10))
        for fire in handler.fired {
            #expect(fire.at >= deadlines[fire.timeout], "timer \(fire.timeout) fired early")
            #expect(fire.at >= boundary + granule, "woke before the granule's end")
            #expect(fire.at < boundary + 2 * granule + 60_000_000, "more than a granule late")
        }
        #expect(Set(handler.fired.map(\.tick)).count == 1, "one granule, one wake-up: \(handler.fired.map(\.tick))")
    }

    /// A tick that ends inside a granule for another reason (here a short `runOnce` limit, in
    /// the wild an event, a message or a signal) leaves that granule's timers for its end.
    @Test(arguments: TestBackends.all)
    func earlyTicksDoNotFireBeforeTheGranuleEnds(backend: Backend) throws {
        let granule: UInt64 = 50_000_000
        let loop = try makeLoop(backend, granularity: .milliseconds(50))
        var handler = RecordingHandler()
        let boundary = (MonotonicClock.now() / granule + 1) * granule
        _ = loop.setTimeout(1, after: .nanoseconds(Int64(boundary + 1_000_000 - MonotonicClock.now())))
        let giveUp = boundary + 20 * granule
        while handler.fired.isEmpty && MonotonicClock.now() < giveUp {
            try loop.runOnce(&handler, timeout: .milliseconds(2))
        }
        #expect(handler.fired.map(\.timeout) == [1])
        #expect(handler.fired.allSatisfy { $0.at >= boundary + granule }, "fired inside the granule")
        #expect(handler.ticks > 5, "the short ticks did not happen: \(handler.ticks)")
    }

    /// `runOnce(timeout: nil)` does not wait forever with a timer pending, nor does a long
    /// timeout outlast the timer: the poll's timeout is the next deadline.
    @Test(arguments: TestBackends.all)
    func pollTimeoutIsTheNextDeadline(backend: Backend) throws {
        let loop = try makeLoop(backend)
        var handler = RecordingHandler()
        let clock = ContinuousClock()

        _ = loop.setTimeout(1, after: .milliseconds(30))
        var start = clock.now
        while handler.fired.isEmpty && clock.now - start < .seconds(5) {
            try loop.runOnce(&handler, timeout: nil)
        }
        var elapsed = clock.now - start
        #expect(handler.fired.map(\.timeout) == [1])
        #expect(elapsed >= .milliseconds(30) && elapsed < .seconds(1), "\(elapsed)")
        #expect(handler.ticks <= 3, "busy-waited: \(handler.ticks) ticks")

        _ = loop.setTimeout(2, after: .milliseconds(20))
        start = clock.now
        try loop.runOnce(&handler, timeout: .seconds(10))
        if handler.fired.count < 2 { try loop.runOnce(&handler, timeout: .seconds(10)) }  // woke a hair early
        elapsed = clock.now - start
        #expect(handler.fired.map(\.timeout) == [1, 2])
        #expect(elapsed < .seconds(2), "waited for the long timeout instead of the timer: \(elapsed)")

        // No timer, no events: runOnce waits for its own timeout.
        start = clock.now
        try loop.runOnceUninterrupted(&handler, timeout: .milliseconds(20))
        #expect(clock.now - start >= .milliseconds(20))
    }

    /// Cleared before its deadline, a timer never fires and `clearTimeout` says true once;
    /// cleared after firing, it says false.
    @Test(arguments: TestBackends.all)
    func clearBeforeAndAfterFiring(backend: Backend) throws {
        let loop = try makeLoop(backend)
        var handler = RecordingHandler()
        let cancelled = loop.setTimeout(1, after: .milliseconds(5))
        let kept = loop.setTimeout(2, after: .milliseconds(10))
        #expect(loop.clearTimeout(cancelled))
        #expect(!loop.clearTimeout(cancelled), "cleared twice")
        #expect(try loop.runUntil(&handler) { $0.fired.count == 1 })
        try loop.runFor(&handler, .milliseconds(20))
        #expect(handler.fired.map(\.timeout) == [2])
        #expect(!loop.clearTimeout(kept), "already fired")

        // A slot reused by a new timer is not cleared through the old handle.
        let reused = loop.setTimeout(3, after: .milliseconds(5))
        #expect(!loop.clearTimeout(cancelled))
        #expect(!loop.clearTimeout(kept))
        #expect(try loop.runUntil(&handler) { $0.fired.count == 2 })
        #expect(handler.fired.map(\.timeout) == [2, 3])
        #expect(!loop.clearTimeout(reused))

        // A handle of another loop does not clear this loop's timers.
        let other = try makeLoop(backend)
        let foreign = other.setTimeout(9, after: .seconds(60))
        let mine = loop.setTimeout(4, after: .seconds(60))
        #expect(!loop.clearTimeout(foreign))
        #expect(loop.clearTimeout(mine))
        #expect(other.clearTimeout(foreign))
    }

    /// A timer cleared by an earlier callback of the same tick does not fire; a timer set from
    /// `timeout` with no delay fires in the next tick, not in the same pass.
    @Test(arguments: TestBackends.all)
    func timersChangedFromCallbacks(backend: Backend) throws {
        let loop = try makeLoop(backend, granularity: .zero)
        var handler = RecordingHandler()
        nonisolated(unsafe) var victim: TimeoutHandle?
        nonisolated(unsafe) var clearedVictim: Bool?
        handler.onTimeout = { _, loop, id in
            if id == 1, let victim { clearedVictim = loop.clearTimeout(victim) }
            if id == 1 { _ = loop.setTimeout(3, after: .zero) }
        }
        _ = loop.setTimeout(1, after: .milliseconds(2))
        victim = loop.setTimeout(2, after: .milliseconds(2))
        #expect(try loop.runUntil(&handler) { $0.fired.count == 2 })
        try loop.runFor(&handler, .milliseconds(10))
        #expect(clearedVictim == true)
        #expect(handler.fired.map(\.timeout) == [1, 3])
        #expect(handler.fired[1].tick == handler.fired[0].tick + 1)
    }

    /// 100,000 pending timers: setting, clearing half of them (in random order) and firing the
    /// rest stays fast (O(log n) each), fires exactly the ones not cleared, in deadline order,
    /// none early.
    @Test(arguments: TestBackends.all)
    func hundredThousandTimers(backend: Backend) throws {
        let count = 100_000
        let loop = try makeLoop(backend)
        var handler = RecordingHandler()
        handler.fired.reserveCapacity(count)
        let clock = ContinuousClock()

        var handles: [TimeoutHandle] = []
        handles.reserveCapacity(count)
        var earliest: [UInt64] = [], latest: [UInt64] = []
        earliest.reserveCapacity(count)
        latest.reserveCapacity(count)
        var rng = SystemRandomNumberGenerator()
        let setStart = clock.now
        for id in 0..<count {
            let delay = Int64.random(in: 20_000_000...300_000_000, using: &rng)  // 20...300 ms
            earliest.append(MonotonicClock.now() + UInt64(delay))
            handles.append(loop.setTimeout(id, after: .nanoseconds(delay)))
            latest.append(MonotonicClock.now() + UInt64(delay))
        }
        let setTime = clock.now - setStart

        var cancelled = Set<Int>()
        let cancelStart = clock.now
        for id in (0..<count).shuffled() where id % 2 == 0 {
            #expect(loop.clearTimeout(handles[id]))
            cancelled.insert(id)
        }
        let cancelTime = clock.now - cancelStart
        // An O(n) cancel would cost 50,000 × 100,000 steps: minutes, not this.
        #expect(setTime < .seconds(5), "setting took \(setTime)")
        #expect(cancelTime < .seconds(5), "cancelling took \(cancelTime)")

        #expect(try loop.runUntil(&handler, within: .seconds(20)) { $0.fired.count == count / 2 })
        try loop.runFor(&handler, .milliseconds(20))
        #expect(handler.fired.count == count / 2)
        var seen = Set<Int>()
        var early = 0, outOfOrder = 0
        // A timer's deadline lies in earliest...latest; one firing after another cannot have a
        // deadline surely earlier than any timer that fired before it.
        var highestEarliest: UInt64 = 0
        for fire in handler.fired {
            #expect(!cancelled.contains(fire.timeout))
            seen.insert(fire.timeout)
            if fire.at < earliest[fire.timeout] { early += 1 }
            if latest[fire.timeout] < highestEarliest { outOfOrder += 1 }
            highestEarliest = max(highestEarliest, earliest[fire.timeout])
        }
        #expect(seen.count == count / 2, "a timer fired twice")
        #expect(early == 0)
        #expect(outOfOrder == 0)
        for id in stride(from: 1, to: count, by: 1000) { #expect(!loop.clearTimeout(handles[id])) }
    }

    /// The heap on its own: random inserts and cancels keep it a valid min-heap whose pops come
    /// out in (deadline, set order).
    @Test func heapStaysOrderedUnderRandomOperations() {
        let heap = DeadlineHeap<Int>()
        var live: [Int: (slot: UInt32, generation: UInt32, deadline: UInt64, sequence: Int)] = [:]
        var sequence = 0
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20_000 {
            if live.isEmpty || Int.random(in: 0..<3, using: &rng) > 0 {
                let deadline = UInt64.random(in: 0..<500, using: &rng)
                let (slot, generation) = heap.insert(round, deadline: deadline)
                live[round] = (slot, generation, deadline, sequence)
                sequence += 1
            } else {
                let victim = live.keys.randomElement(using: &rng)!
                let entry = live.removeValue(forKey: victim)!
                #expect(heap.cancel(slot: entry.slot, generation: entry.generation) == victim)
                #expect(heap.cancel(slot: entry.slot, generation: entry.generation) == nil)
            }
        }
        #expect(heap.count == live.count)
        let expected = live.sorted { ($0.value.deadline, $0.value.sequence) < ($1.value.deadline, $1.value.sequence) }.map(\.key)
        var popped: [Int] = []
        while let id = heap.popExpired(now: .max, sequenceLimit: .max) { popped.append(id) }
        #expect(popped == expected)
        #expect(heap.isEmpty && heap.nextDeadline == nil)
    }
}
