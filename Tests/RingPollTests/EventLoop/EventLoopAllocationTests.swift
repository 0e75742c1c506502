import CTestSupport
import Glibc
import Testing
@testable import RingPoll

/// A handler with no closures or collections of its own, so that counted allocations can only
/// come from the loop.
struct CountingHandler: EventHandler {
    typealias Message = Int
    typealias Timeout = Int

    let byte: UnsafeMutableRawPointer
    var readies = 0
    var messages = 0
    var timeouts = 0
    var ticks = 0
    var interruptions = 0
    var checksum = 0
    /// Per tick, set and clear a timer that never fires, besides the one that does.
    var churnTimers = false

    mutating func ready(_ eventLoop: EventLoop<CountingHandler>, token: Token, event: Event) {
        readies += 1
        checksum &+= token.rawValue
        _ = read(CInt(token.rawValue), byte, 1)  // the token is the descriptor
    }

    mutating func notify(_ eventLoop: EventLoop<CountingHandler>, message: Int) {
        messages += 1
        checksum &+= message
    }

    mutating func timeout(_ eventLoop: EventLoop<CountingHandler>, timeout: Int) {
        timeouts += 1
        checksum &+= timeout
    }

    mutating func interrupted(_ eventLoop: EventLoop<CountingHandler>) {
        interruptions += 1
    }

    mutating func tick(_ eventLoop: EventLoop<CountingHandler>) {
        ticks += 1
        if churnTimers {
            let handle = eventLoop.setTimeout(ticks, after: .seconds(60))
            _ = eventLoop.clearTimeout(handle)
        }
    }
}

/// Steady-state ticks allocate nothing: 10,000 ticks that each deliver an event, a message and
/// a timer (set with a zero delay and fired) add no allocation on the loop's thread, on either
/// backend and with every trigger.
///
/// A signal interrupting a wait (EINTR) makes `Poll` throw `Errno.interrupted`, and Swift
/// Testing's hook for thrown errors captures a backtrace, which allocates in the test process
/// only. Pool threads do see such signals now and then (io_uring task-work notification of rings
/// other tests left on the thread), so a window with an interruption is measured again.
@Suite(.enabled(if: MallocCounter.isUsable, "a sanitizer owns malloc in this build: the malloc counter is compiled out"))
struct EventLoopAllocationTests {
    private static let iterations = 10_000

    /// Counts the allocations of `body`, measured again (up to five windows) while a window saw
    /// an interruption. Returns the count of the last window and how many were interrupted.
    static func countAllocations(
        _ handler: inout CountingHandler,
        _ body: (inout CountingHandler) throws -> Void
    ) rethrows -> (allocations: UInt64, interruptedWindows: Int) {
        var interruptedWindows = 0
        while true {
            let interruptionsBefore = handler.interruptions
            rp_malloc_counter_start()
            try body(&handler)
            let allocations = rp_malloc_counter_stop()
            if handler.interruptions == interruptionsBefore || interruptedWindows == 4 {
                return (allocations, interruptedWindows)
            }
            interruptedWindows += 1
        }
    }

    @Test(arguments: TestBackends.all, [Trigger.edge, .level, .oneshot])
    func steadyStateTicksAllocateNothing(backend: Backend, trigger: Trigger) throws {
        #expect(rp_malloc_counter_is_active() == 1)
        let loop = try EventLoop<CountingHandler>(configuration: .init(timerGranularity: .zero), backend: backend)
        let pairs = (0..<32).map { _ in SocketPair() }
        for pair in pairs {
            try loop.registry.register(SourceFD(pair.local), token: Token(Int(pair.local)), interests: .readable, trigger: trigger)
        }
        let sender = loop.channel()
        let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        defer { byte.deallocate() }
        var handler = CountingHandler(byte: byte, churnTimers: true)

        func round(_ index: Int, _ handler: inout CountingHandler) throws {
            let pair = pairs[index % pairs.count]
            _ = write(pair.peer, byte, 1)
            try? sender.send(index)
            _ = loop.setTimeout(index, after: .zero)
            try loop.runOnce(&handler, timeout: .seconds(1))
            if trigger == .oneshot {
                try loop.registry.reregister(SourceFD(pair.local), token: Token(Int(pair.local)), interests: .readable, trigger: .oneshot)
            }
        }
        for index in 0..<500 { try round(index, &handler) }  // warm up: buffers reach their working size
        let before = (handler.readies, handler.messages, handler.timeouts)
        let (allocations, interrupted) = try EventLoopAllocationTests.countAllocations(&handler) { handler in
            for index in 0..<EventLoopAllocationTests.iterations { try round(index, &handler) }
        }
        let windows = interrupted + 1
        // Drain what the last rounds left, then check everything arrived.
        let total = 500 + windows * EventLoopAllocationTests.iterations
        #expect(try loop.runUntil(&handler) { $0.messages == total })
        #expect(handler.messages - before.1 == windows * EventLoopAllocationTests.iterations)
        #expect(handler.timeouts - before.2 >= windows * EventLoopAllocationTests.iterations - 1)
        #expect(handler.readies - before.0 >= windows * EventLoopAllocationTests.iterations / 2)
        #expect(allocations == 0, "\(allocations) allocations in \(EventLoopAllocationTests.iterations) ticks")
        print("[allocations] \(backend) \(trigger): \(allocations) in \(EventLoopAllocationTests.iterations) ticks (\(interrupted) windows with EINTR redone)")
    }

    /// Ticks that find nothing, and wake-ups from another thread's messages, allocate nothing.
    @Test(arguments: TestBackends.all)
    func idleTicksAndCrossThreadWakeupsAllocateNothing(backend: Backend) throws {
        let loop = try EventLoop<CountingHandler>(configuration: .init(), backend: backend)
        let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        defer { byte.deallocate() }
        var handler = CountingHandler(byte: byte)
        let sender = loop.channel()
        for _ in 0..<200 { try loop.runOnce(&handler, timeout: .zero) }
        for index in 0..<200 { try sender.send(index); try loop.runOnce(&handler, timeout: .seconds(1)) }

        // The producer sends message n once the loop has received n messages, so most land
        // while the loop is blocked and must wake it.
        let target = SharedInt()
        target.value.store(-1, ordering: .releasing)
        let producer = TestThread { () -> Bool in
            for index in 0..<10_000 {
                if target.value.load(ordering: .acquiring) == Int.max { return true }
                guard waitUntil(within: .seconds(10), { target.value.load(ordering: .acquiring) >= index }) else { return false }
                if (try? sender.send(index)) == nil { return false }
            }
            return true
        }
        // Interrupted windows are redone: the producer then simply sends the next 2,000.
        var received = 0
        let (allocations, interrupted) = try EventLoopAllocationTests.countAllocations(&handler) { handler in
            for _ in 0..<1_000 { try loop.runOnce(&handler, timeout: .zero) }
            let startMessages = handler.messages
            let clock = ContinuousClock()
            let end = clock.now + .seconds(20)
            while handler.messages - startMessages < 2_000 && clock.now < end {
                target.value.store(received + handler.messages - startMessages, ordering: .releasing)
                try loop.runOnce(&handler, timeout: .milliseconds(100))
            }
            received += handler.messages - startMessages
        }
        target.value.store(Int.max, ordering: .releasing)
        #expect(producer.join())
        #expect(received == 2_000 * (interrupted + 1))
        #expect(allocations == 0, "\(allocations) allocations (\(interrupted) windows with EINTR redone)")

        // Control: the counter does see this thread's allocations, for example the timer heap
        // growing to a new high of pending timers.
        rp_malloc_counter_start()
        let handles = (0..<1_000).map { loop.setTimeout($0, after: .seconds(60)) }
        let growth = rp_malloc_counter_stop()
        #expect(growth > 0)
        for handle in handles { #expect(loop.clearTimeout(handle)) }
    }
}
