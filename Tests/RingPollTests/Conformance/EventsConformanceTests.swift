// Port of mio's tests/events.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `assert_event_source_implemented_for` checks that `Box<dyn Source>` and `Box<TcpStream>` are
//   sources. Swift has no boxes: the equivalents are an existential `any Source` and a stream held
//   through a plain reference. Both are registered for real, on each backend.
// - `events.clear()` is `removeAll()`.
// - `Send`/`Sync` are one marker in Swift, `Sendable`, checked at compile time.

import Testing
@testable import RingPoll

@Suite("mio events.rs") struct EventsConformanceTests {
    private static let wakeToken = Token(10)

    @Test("events::assert_event_source_implemented_for", arguments: TestBackends.all)
    func assertEventSourceImplementedFor(backend: Backend) throws {
        func assertEventSource<S: Source>(_: S.Type) {}
        assertEventSource(TCPStream.self)

        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let stream = try TCPStream.connect(to: try listener.localAddress())
        let boxed: any Source = stream
        try poll.registry.register(boxed, token: Token(1), interests: .writable)
        try poll.registry.reregister(boxed, token: Token(2), interests: .writable)
        try poll.registry.deregister(boxed)
        withExtendedLifetime((listener, stream)) {}
    }

    @Test("events::events_all", arguments: TestBackends.all)
    func eventsAll(backend: Backend) throws {
        let test = try MioPoll(backend)
        #expect(test.events.capacity == 16)
        #expect(test.events.isEmpty)

        let waker = try Waker(registry: test.registry, token: Self.wakeToken)
        try waker.wake()
        // mio polls once for 100 ms; the wake came first, so the poll returns at once either way.
        try test.pollOnce(timeout: .seconds(5))
        #expect(!test.events.isEmpty)
        for event in test.events {
            #expect(event.token == Self.wakeToken)
            #expect(event.isReadable)
        }

        test.events.removeAll()
        #expect(test.events.isEmpty)
        withExtendedLifetime(waker) {}
    }

    @Test("events::is_event_send_sync")
    func isEventSendSync() {
        Mio.assertSendable(Event.self)
        Mio.assertSendable(Events.self)
    }
}
