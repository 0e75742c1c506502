import Glibc
import Testing
@testable import RingPoll

/// Running and stopping: `run` until `shutdown()` (from a callback or another thread),
/// `isRunning`, one `tick` per iteration, `interrupted` on EINTR, the reserved wake token, the
/// callback order within a tick, triggers through the loop's registry, configuration checks.
@Suite struct EventLoopLifecycleTests {
    /// A handler that stops the loop from a timer callback: `run` returns, `isRunning` was true
    /// inside and is false after, and the loop can run again.
    @Test(arguments: TestBackends.all)
    func shutdownFromAHandler(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        var handler = RecordingHandler()
        nonisolated(unsafe) var runningInside = false
        handler.onTimeout = { _, loop, _ in
            runningInside = loop.isRunning
            loop.shutdown()
        }
        _ = loop.setTimeout(1, after: .milliseconds(5))
        #expect(!loop.isRunning)
        try loop.run(&handler)
        #expect(runningInside)
        #expect(!loop.isRunning)
        #expect(handler.fired.map(\.timeout) == [1])
        #expect(handler.trace.hasSuffix("tk"), "the tick that asked to stop still ends with tick: \(handler.trace)")

        // The request was used up: a second run goes on until the next shutdown.
        _ = loop.setTimeout(2, after: .milliseconds(5))
        try loop.run(&handler)
        #expect(handler.fired.map(\.timeout) == [1, 2])
    }

    /// `shutdown()` from another thread wakes a `run` blocked with nothing to do.
    @Test(arguments: TestBackends.all)
    func shutdownFromAnotherThreadWakesABlockedRun(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        let runner = TestThread { () -> Int in
            var handler = RecordingHandler()
            do throws(Errno) { try loop.run(&handler) } catch { return -1 }
            return handler.ticks
        }
        #expect(waitUntil { loop.isRunning })
        // Wait until the loop really sleeps in the kernel, so the wake-up is what ends it.
        #expect(waitUntil { loop.registry.selector.diagnostics.isPollerAsleep })
        let clock = ContinuousClock()
        let start = clock.now
        loop.shutdown()
        let ticks = runner.result(within: .seconds(5))
        #expect(ticks != nil, "run did not return after shutdown()")
        #expect(clock.now - start < .seconds(5))
        runner.join()
        #expect(!loop.isRunning)
        #expect((ticks ?? -1) >= 1)
    }

    /// A `shutdown()` that comes before `run` starts is not lost: that `run` returns at once.
    @Test(arguments: TestBackends.all)
    func shutdownBeforeRunIsNotLost(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        loop.shutdown()
        var handler = RecordingHandler()
        let runner = TestThread { () -> Bool in
            var handler = RecordingHandler()
            return (try? loop.run(&handler)) != nil
        }
        #expect(runner.result(within: .seconds(5)) == true)
        runner.join()
        #expect(handler.ticks == 0)
        try loop.runOnce(&handler, timeout: .zero)
        #expect(handler.ticks == 1)
    }

    /// `tick` is called exactly once per iteration, whether it saw events, messages, timers or
    /// nothing; callbacks come in the order ready, notify, timeout, tick.
    @Test(arguments: TestBackends.all)
    func tickOncePerIterationInOrder(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(timerGranularity: .zero), backend: backend)
        var handler = RecordingHandler()
        for _ in 0..<5 { try loop.runOnce(&handler, timeout: .zero) }
        #expect(handler.trace == "kkkkk")

        let pair = SocketPair()
        try loop.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        try loop.channel().send(StampedMessage(sender: 0, sequence: 0))
        _ = loop.setTimeout(7, after: .zero)
        pair.send()
        handler.trace = ""
        #expect(try loop.runUntil(&handler) { $0.trace.contains("r") && $0.trace.contains("n") && $0.trace.contains("t") })
        // On io_uring the registration arms during the first poll; its event may come a tick
        // later than the message and the timer, but every tick keeps the order.
        for tick in handler.trace.split(separator: "k", omittingEmptySubsequences: false).dropLast() {
            #expect(["", "r", "n", "t", "rn", "rt", "nt", "rnt"].contains(String(tick)), "\(handler.trace)")
        }
        #expect(handler.trace.filter { $0 == "k" }.count == handler.ticks - 5)
    }

    /// A signal ending the wait calls `interrupted`, then the loop goes on (and still delivers).
    @Test(arguments: TestBackends.all)
    func interruptedThenGoesOn(backend: Backend) throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR2, &action, nil)

        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        let interruptions = SharedInt()
        let runner = TestThread { () -> (trace: String, messages: [Int])? in
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            var handler = RecordingHandler()
            handler.onTick = { handler, _ in interruptions.value.store(handler.interruptions, ordering: .releasing) }
            handler.onNotify = { _, loop, message in if message.sequence == 99 { loop.shutdown() } }
            do throws(Errno) { try loop.run(&handler) } catch { return nil }
            return (handler.trace, handler.messages.map(\.sequence))
        }
        #expect(waitUntil { loop.isRunning })
        var attempts = 0
        while interruptions.value.load(ordering: .acquiring) == 0 && attempts < 500 {
            // The signal may land outside the wait; keep sending until one interrupts it.
            _ = waitUntil(within: .milliseconds(100)) { loop.registry.selector.diagnostics.isPollerAsleep }
            pthread_kill(runner.pthread, SIGUSR2)
            _ = waitUntil(within: .milliseconds(20)) { interruptions.value.load(ordering: .acquiring) > 0 }
            attempts += 1
        }
        #expect(interruptions.value.load(ordering: .acquiring) > 0)
        try loop.channel().send(StampedMessage(sender: 0, sequence: 99))
        let outcome = runner.result(within: .seconds(5)) ?? nil
        #expect(outcome != nil, "the loop stopped or hung after the interruption")
        if outcome != nil { runner.join() }
        #expect(outcome?.messages == [99])
        let trace = outcome?.trace ?? ""
        #expect(trace.contains("ik"), "interrupted is followed by the iteration's tick")
        if outcome == nil {
            loop.shutdown()
            _ = runner.result(within: .seconds(5))
        }
    }

    /// Events for the loop's own wake token never reach `ready`: neither the loop's wake-ups
    /// nor a source registered with `Token(Int.max)`. `connect` and `listen` refuse it.
    @Test(arguments: TestBackends.all)
    func reservedWakeTokenIsNeverReported(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        var handler = RecordingHandler()
        let hidden = ReadyEventFD()
        let visible = ReadyEventFD()
        try loop.registry.register(SourceFD(hidden.fd), token: Token(Int.max), interests: .readable, trigger: .level)
        try loop.registry.register(SourceFD(visible.fd), token: Token(Int.max - 1), interests: .readable)
        for sequence in 0..<3 { try loop.channel().send(StampedMessage(sender: 0, sequence: sequence)) }
        loop.shutdown()  // wakes the loop; not inside run, so only the wake-up shows
        #expect(try loop.runUntil(&handler) { $0.messages.count == 3 && !$0.readies.isEmpty })
        try loop.runFor(&handler, .milliseconds(20))
        #expect(handler.readies.map(\.token) == [Token(Int.max - 1)])
        #expect(EventLoop<RecordingHandler>.wakeToken == Token(Int.max))

        let listener = try LoopTestSupport.listener()
        #expect(throws: Errno.invalidArgument) { try loop.listen(listener, token: Token(Int.max)) }
        #expect(throws: Errno.invalidArgument) { _ = try loop.connect(to: try listener.localAddress(), token: Token(Int.max)) }
    }

    /// Edge, level and oneshot registrations made through the loop's registry behave as on a
    /// bare `Poll`: edge reports once, level every tick, oneshot once until reregistered.
    @Test(arguments: TestBackends.all)
    func triggersThroughTheLoopsRegistry(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(), backend: backend)
        var handler = RecordingHandler()
        let edge = ReadyEventFD(), level = ReadyEventFD(), oneshot = ReadyEventFD()
        try loop.registry.register(SourceFD(edge.fd), token: Token(1), interests: .readable, trigger: .edge)
        try loop.registry.register(SourceFD(level.fd), token: Token(2), interests: .readable, trigger: .level)
        try loop.registry.register(SourceFD(oneshot.fd), token: Token(3), interests: .readable, trigger: .oneshot)
        #expect(try loop.runUntil(&handler) { $0.readies(for: Token(3)).count == 1 && $0.readies(for: Token(1)).count == 1 })
        let ticksBefore = handler.ticks
        let interruptionsBefore = handler.interruptions
        let levelBefore = handler.readies(for: Token(2)).count
        for _ in 0..<5 { try loop.runOnceUninterrupted(&handler, timeout: .milliseconds(50)) }
        #expect(handler.readies(for: Token(1)).count == 1, "edge repeated")
        #expect(handler.readies(for: Token(3)).count == 1, "oneshot repeated")
        let uninterruptedTicks = handler.ticks - ticksBefore - (handler.interruptions - interruptionsBefore)
        #expect(handler.readies(for: Token(2)).count - levelBefore == uninterruptedTicks, "level did not repeat every tick")

        try loop.registry.reregister(SourceFD(oneshot.fd), token: Token(3), interests: .readable, trigger: .oneshot)
        #expect(try loop.runUntil(&handler) { $0.readies(for: Token(3)).count == 2 })
        edge.signal()
        #expect(try loop.runUntil(&handler) { $0.readies(for: Token(1)).count == 2 })
        for fd in [edge.fd, level.fd, oneshot.fd] { try loop.registry.deregister(SourceFD(fd)) }
    }

    /// More ready sources than `eventsCapacity`: each tick takes at most that many, none is lost.
    @Test(arguments: TestBackends.all)
    func eventsBeyondCapacityComeNextTick(backend: Backend) throws {
        let loop = try EventLoop<RecordingHandler>(configuration: .init(eventsCapacity: 4), backend: backend)
        var handler = RecordingHandler()
        let sources = (0..<10).map { _ in ReadyEventFD() }
        for (index, source) in sources.enumerated() {
            try loop.registry.register(SourceFD(source.fd), token: Token(index), interests: .readable)
        }
        #expect(try loop.runUntil(&handler) { $0.readies.count >= 10 })
        try loop.runFor(&handler, .milliseconds(20))
        #expect(Set(handler.readies.map(\.token)) == Set((0..<10).map(Token.init)))
        #expect(handler.readies.count == 10)
    }

    /// Out-of-range settings are refused at creation; the defaults are those of the contract.
    @Test func configurationDefaultsAndValidation() throws {
        let defaults = EventLoopConfiguration()
        #expect(defaults.eventsCapacity == 1024)
        #expect(defaults.channelCapacity == 4096)
        #expect(defaults.messagesPerTick == 256)
        #expect(defaults.timerGranularity == .milliseconds(1))
        for bad in [EventLoopConfiguration(eventsCapacity: 0), .init(channelCapacity: -1), .init(messagesPerTick: 0),
                    .init(timerGranularity: .milliseconds(-1))] {
            #expect(throws: Errno.invalidArgument) { _ = try EventLoop<RecordingHandler>(configuration: bad) }
        }
        // A zero capacity channel refuses everything; a zero granularity is exact.
        let loop = try EventLoop<RecordingHandler>(configuration: .init(channelCapacity: 0, timerGranularity: .zero))
        #expect(loop.backend != .automatic)
        do throws(NotifyError<StampedMessage>) {
            try loop.channel().send(StampedMessage(sender: 0, sequence: 0))
            Issue.record("a zero-capacity channel accepted a message")
        } catch {
            guard case .full = error else { Issue.record("\(error)"); return }
        }
    }

    /// A handler that implements only `ready` compiles with the defaults for everything else.
    @Test(arguments: TestBackends.all)
    func minimalHandlerUsesDefaults(backend: Backend) throws {
        struct OnlyReady: EventHandler {
            var count = 0
            mutating func ready(_ eventLoop: EventLoop<OnlyReady>, token: Token, event: Event) { count += 1 }
        }
        let loop = try EventLoop<OnlyReady>(configuration: .init(), backend: backend)
        #expect(loop.backend == backend)
        let source = ReadyEventFD()
        try loop.registry.register(SourceFD(source.fd), token: Token(0), interests: .readable)
        var handler = OnlyReady()
        #expect(try loop.runUntil(&handler) { $0.count == 1 })
    }
}
