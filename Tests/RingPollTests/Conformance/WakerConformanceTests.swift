// Port of mio's tests/waker.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `expect_waker_event` polls once, as mio's does, but with a 5 s timeout instead of 100 ms: the
//   poll returns as soon as the wake-up arrives, and a wake from another thread may come late on
//   a loaded machine.
// - `Arc<Waker>` is a plain reference: `Waker` is a `Sendable` class.
// - mio's two debug-only tests `using_multiple_wakers_panics` and
//   `using_multiple_wakers_panics_different_cloned_registries` expect a panic for a second
//   `Waker` on one `Poll`. The contract says the opposite ("any number of Wakers may share a
//   Poll, each with its own token"), so they become tests that both wakers work. `Registry` has
//   no `try_clone`: the second test reaches the registry through two references instead.

import Testing
@testable import RingPoll

@Suite("mio waker.rs") struct WakerConformanceTests {
    private static let token = Token(10)

    @Test("waker::is_send_and_sync")
    func isSendAndSync() {
        Mio.assertSendable(Waker.self)
    }

    @Test("waker::waker", arguments: TestBackends.all)
    func waker(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 10)
        let waker = try Waker(registry: test.registry, token: Self.token)
        try waker.wake()
        try expectWakerEvent(test, Self.token)
        withExtendedLifetime(waker) {}
    }

    @Test("waker::waker_multiple_wakeups_same_thread", arguments: TestBackends.all)
    func wakerMultipleWakeupsSameThread(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 10)
        let waker = try Waker(registry: test.registry, token: Self.token)
        for _ in 0..<3 {
            try waker.wake()
        }
        try expectWakerEvent(test, Self.token)
        withExtendedLifetime(waker) {}
    }

    @Test("waker::waker_wakeup_different_thread", arguments: TestBackends.all)
    func wakerWakeupDifferentThread(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 10)
        let waker = try Waker(registry: test.registry, token: Self.token)
        let thread = MioThread {
            try waker.wake()
        }
        try expectWakerEvent(test, Self.token)
        try test.expectNoEvents()
        thread.join()
    }

    @Test("waker::waker_multiple_wakeups_different_thread", arguments: TestBackends.all)
    func wakerMultipleWakeupsDifferentThread(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 10)
        let waker = try Waker(registry: test.registry, token: Self.token)
        let thread1 = MioThread {
            try waker.wake()
        }
        let barrier = MioBarrier(2)
        let thread2 = MioThread {
            try barrier.arrive()
            try waker.wake()
        }

        // The event from thread 1.
        try expectWakerEvent(test, Self.token)
        // Unblock thread 2, whose wake must produce another event.
        #expect(barrier.wait())
        try expectWakerEvent(test, Self.token)
        try test.expectNoEvents()

        thread1.join()
        thread2.join()
    }

    /// mio (debug only): `using_multiple_wakers_panics`. The contract allows several wakers per
    /// poll, so both must work.
    @Test("waker::using_multiple_wakers_panics (contract: several wakers work)", arguments: TestBackends.all)
    func usingMultipleWakers(backend: Backend) throws {
        let test = try MioPoll(backend)
        let waker1 = try Waker(registry: test.registry, token: Token(10))
        let waker2 = try Waker(registry: test.registry, token: Token(11))
        try waker1.wake()
        try waker2.wake()
        try expectBothWakers(test)
        withExtendedLifetime((waker1, waker2)) {}
    }

    /// mio (debug only): `using_multiple_wakers_panics_different_cloned_registries`. RingPoll has
    /// one `Registry` object per poll, shared by reference where mio clones it.
    @Test("waker::using_multiple_wakers_panics_different_cloned_registries (contract: several wakers work)", arguments: TestBackends.all)
    func usingMultipleWakersDifferentRegistryReferences(backend: Backend) throws {
        let test = try MioPoll(backend)
        let registry1: Registry = test.registry
        let registry2: Registry = test.registry
        let waker1 = try Waker(registry: registry1, token: Token(10))
        let waker2 = try Waker(registry: registry2, token: Token(11))
        try waker1.wake()
        try waker2.wake()
        try expectBothWakers(test)
        withExtendedLifetime((waker1, waker2)) {}
    }

    private func expectBothWakers(_ test: MioPoll) throws {
        let seen = try test.expectEvents([
            MioExpectEvent(Token(10), .readable),
            MioExpectEvent(Token(11), .readable),
        ])
        #expect(seen.allSatisfy { $0.isReadable && ($0.token == Token(10) || $0.token == Token(11)) })
    }

    /// mio's `expect_waker_event`: one poll returns events, all of them the waker's, readable.
    private func expectWakerEvent(_ test: MioPoll, _ token: Token, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let events = try test.pollOnce(timeout: .seconds(5))
        #expect(!events.isEmpty, sourceLocation: sourceLocation)
        for event in events {
            #expect(event.token == token, sourceLocation: sourceLocation)
            #expect(event.isReadable, sourceLocation: sourceLocation)
        }
    }
}
