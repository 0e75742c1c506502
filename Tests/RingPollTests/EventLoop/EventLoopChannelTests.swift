import Glibc
import Synchronization
import Testing
@testable import RingPoll

/// Counts instances alive, to show that messages a closed channel dropped were released.
final class LifeCounter: Sendable {
    let alive = Atomic<Int>(0)
}

final class TrackedPayload: Sendable {
    let counter: LifeCounter
    init(_ counter: LifeCounter) {
        self.counter = counter
        counter.alive.add(1, ordering: .relaxed)
    }
    deinit { counter.alive.subtract(1, ordering: .relaxed) }
}

struct PayloadHandler: EventHandler {
    typealias Message = TrackedPayload
    var received = 0
    mutating func notify(_ eventLoop: EventLoop<PayloadHandler>, message: TrackedPayload) { received += 1 }
}

/// The cross-thread channel: bounded with an exact capacity, nothing lost or duplicated, order
/// kept per sender, at most `messagesPerTick` per tick, `.full`/`.closed` hand the message back,
/// and a message sent while the loop is about to block wakes it.
@Suite struct EventLoopChannelTests {
    /// 8 threads × 10,000 messages through the default 4096-message channel: every message
    /// arrives once, each sender's in order, never more than 256 in a tick.
    @Test(arguments: TestBackends.all)
    func eightThreadsTenThousandMessagesEach(backend: Backend) throws {
        let threads = 8, perThread = 10_000
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        var handler = RecordingHandler()
        handler.messages.reserveCapacity(threads * perThread)
        let fullCount = SharedInt()
        let producers = (0..<threads).map { sender in
            let channel = loop.channel()
            return TestThread { () -> Bool in
                let clock = ContinuousClock()
                let end = clock.now + .seconds(30)
                for sequence in 0..<perThread {
                    var message = StampedMessage(sender: sender, sequence: sequence)
                    while true {
                        do throws(NotifyError<StampedMessage>) {
                            try channel.send(message)
                            break
                        } catch {
                            guard case .full(let back) = error, clock.now < end else { return false }
                            message = back  // the message comes back; retry it
                            fullCount.value.add(1, ordering: .relaxed)
                            sched_yield()
                        }
                    }
                }
                return true
            }
        }
        let done = try loop.runUntil(&handler, within: .seconds(30)) { $0.messages.count >= threads * perThread }
        #expect(producers.allSatisfy { $0.join() })
        try loop.runFor(&handler, .milliseconds(20))
        #expect(done)
        #expect(handler.messages.count == threads * perThread, "lost or duplicated messages")
        var next = [Int](repeating: 0, count: threads)
        var disorder = 0
        for message in handler.messages {
            if message.sequence != next[message.sender] { disorder += 1 }
            next[message.sender] = message.sequence + 1
        }
        #expect(disorder == 0, "per-sender order broken \(disorder) times")
        #expect(next == [Int](repeating: perThread, count: threads))
        #expect(handler.mostMessagesInATick <= 256)
        print("[channel] \(backend): \(handler.ticks) ticks, \(fullCount.value.load(ordering: .relaxed)) full retries, most in a tick \(handler.mostMessagesInATick)")
    }

    /// The capacity is exact: with 4096 pending, the 4097th send is refused with its message,
    /// and after the loop takes some, sends succeed again.
    @Test(arguments: TestBackends.all)
    func defaultCapacityIsExact(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        let sender = loop.channel()
        for sequence in 0..<4096 {
            #expect(throws: Never.self) { try sender.send(StampedMessage(sender: 0, sequence: sequence)) }
        }
        let refused = StampedMessage(sender: 0, sequence: 4096)
        #expect(outcome(of: { () throws(NotifyError<StampedMessage>) in try sender.send(refused) }) == "full:4096")
        // A second sender shares the same channel and its capacity.
        #expect(outcome(of: { () throws(NotifyError<StampedMessage>) in try loop.channel().send(refused) }) == "full:4096")

        var handler = RecordingHandler()
        try loop.runOnce(&handler, timeout: .seconds(1))
        #expect(handler.messages.count == 256, "messagesPerTick")
        #expect(handler.messages.map(\.sequence) == Array(0..<256))
        #expect(throws: Never.self) { try sender.send(refused) }
        #expect(try loop.runUntil(&handler) { $0.messages.count == 4097 })
        #expect(handler.messages.map(\.sequence) == Array(0...4096))
        #expect(handler.messageCountsPerTick.allSatisfy { $0 <= 256 })
    }

    /// A small capacity and a small per-tick budget, with the budget leaving messages behind:
    /// the next tick does not wait for them.
    @Test(arguments: TestBackends.all)
    func perTickBudgetAndLeftoversDoNotWait(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(channelCapacity: 10, messagesPerTick: 3), backend: backend)
        let sender = loop.channel()
        for sequence in 0..<10 { try sender.send(StampedMessage(sender: 1, sequence: sequence)) }
        #expect(outcome(of: { () throws(NotifyError<StampedMessage>) in try sender.send(.init(sender: 1, sequence: 10)) }) == "full:10")
        var handler = RecordingHandler()
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<4 { try loop.runOnce(&handler, timeout: .seconds(10)) }
        #expect(clock.now - start < .seconds(5), "a tick waited although messages remained")
        #expect(handler.messageCountsPerTick == [3, 3, 3, 1])
        #expect(handler.messages.map(\.sequence) == Array(0..<10))
    }

    /// Once the loop is gone, `send` throws `.closed` with the message, the loop was not kept
    /// alive by the sender, and messages it never delivered were released.
    @Test(arguments: TestBackends.all)
    func closedWhenTheLoopIsGone(backend: Backend) throws {
        let counter = LifeCounter()
        var loop: EventLoop<PayloadHandler>? = try EventLoop(configuration: .init(), backend: backend)
        let sender = loop!.channel()
        for _ in 0..<5 { try sender.send(TrackedPayload(counter)) }
        #expect(counter.alive.load(ordering: .relaxed) == 5)
        loop = nil  // only the loop's deinit closes the channel: `.closed` below proves it ran
        #expect(counter.alive.load(ordering: .relaxed) == 0, "queued messages leaked")

        let payload = TrackedPayload(counter)
        do throws(NotifyError<TrackedPayload>) {
            try sender.send(payload)
            Issue.record("send to a dead loop succeeded: a sender kept the loop alive")
        } catch {
            guard case .closed(let back) = error else { Issue.record("expected .closed, got \(error)"); return }
            #expect(back === payload)
        }
        // From another thread too.
        let sent = TestThread { () -> Bool in
            (try? sender.send(TrackedPayload(counter))) != nil
        }
        #expect(sent.join() == false)
        #expect(counter.alive.load(ordering: .relaxed) == 1)
    }

    /// Ping-pong between the loop and another thread, 5,000 times: each message is sent only
    /// after the previous one arrived, so it usually lands while the loop is about to block or
    /// blocked. A lost wake-up would leave `runOnce(timeout: nil)` waiting for ever; the
    /// watchdog turns that into a failure.
    @Test(arguments: TestBackends.all)
    func messageSentWhileTheLoopBlocksWakesIt(backend: Backend) throws {
        let rounds = 5_000
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        let shared = SharedInt()
        let sender = loop.channel()
        let producer = TestThread { () -> Bool in
            for sequence in 0..<rounds {
                guard waitUntil(within: .seconds(10), { shared.value.load(ordering: .acquiring) == sequence }) else { return false }
                if (try? sender.send(StampedMessage(sender: 0, sequence: sequence))) == nil { return false }
            }
            return true
        }
        var handler = RecordingHandler()
        handler.onNotify = { _, _, message in shared.value.store(message.sequence + 1, ordering: .releasing) }
        // Watchdog: if a wake-up is lost, `nil` timeouts would hang. After 30 s it flags the
        // failure and wakes the loop through `shutdown()`, which does not use the channel.
        let watchdogFlag = SharedFlag()
        let watchdog = TestThread { () -> Bool in
            let fine = waitUntil(within: .seconds(30)) { watchdogFlag.value.load(ordering: .acquiring) }
            if !fine {
                shared.value.store(Int.max / 2, ordering: .releasing)
                loop.shutdown()
            }
            return fine
        }
        while handler.messages.count < rounds && shared.value.load(ordering: .acquiring) < Int.max / 2 {
            try loop.runOnce(&handler, timeout: nil)
        }
        watchdogFlag.value.store(true, ordering: .releasing)
        #expect(watchdog.join(), "a message sent while the loop blocked did not wake it")
        #expect(producer.join())
        #expect(handler.messages.map(\.sequence) == Array(0..<rounds))
    }

    /// A handler may send to its own loop from `notify`; the budget keeps that from spinning
    /// inside one tick, and nothing deadlocks.
    @Test(arguments: TestBackends.all)
    func handlerSendsToItself(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(messagesPerTick: 4), backend: backend)
        var handler = RecordingHandler()
        handler.onNotify = { _, loop, message in
            if message.sequence < 19 { try? loop.channel().send(StampedMessage(sender: 0, sequence: message.sequence + 1)) }
        }
        try loop.channel().send(StampedMessage(sender: 0, sequence: 0))
        #expect(try loop.runUntil(&handler) { $0.messages.count == 20 })
        #expect(handler.messages.map(\.sequence) == Array(0..<20))
        #expect(handler.mostMessagesInATick <= 4)
    }

    /// `NotifyError` hands back the message either way.
    @Test func notifyErrorCarriesTheMessage() {
        let full = NotifyError<StampedMessage>.full(.init(sender: 1, sequence: 2))
        let closed = NotifyError<StampedMessage>.closed(.init(sender: 3, sequence: 4))
        #expect(full.message == StampedMessage(sender: 1, sequence: 2))
        #expect(closed.message == StampedMessage(sender: 3, sequence: 4))
        #expect("\(full)".contains("full") && "\(closed)".contains("closed"))
    }
}

/// "full:<sequence>", "closed:<sequence>" or "sent", for comparing outcomes in `#expect`.
private func outcome(of body: () throws(NotifyError<StampedMessage>) -> Void) -> String {
    do throws(NotifyError<StampedMessage>) {
        try body()
        return "sent"
    } catch {
        switch error {
        case .full(let message): return "full:\(message.sequence)"
        case .closed(let message): return "closed:\(message.sequence)"
        }
    }
}
