// Port of mio's tests/poll.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `is_send_and_sync`: `Events` and `Registry` are `Sendable` (checked at compile time). `Poll`
//   is deliberately not: the contract has one thread poll at a time, and a `Poll` moves between
//   threads by hand (the tests use `Handoff`). mio's `Poll` is `Send + Sync`.
// - `Registry::try_clone` and `Arc<Registry>` do not exist: `Registry` is a `Sendable` class,
//   shared by reference.
// - mio's sleeps are replaced by bounded waits on the condition they wait for:
//   `zero_duration_polls_events` waits (poll(2)) until the streams are connected instead of
//   sleeping 10 ms; `register_during_poll` waits until the poller is asleep in the kernel
//   (the backend's diagnostics) instead of sleeping 200 ms.
// - mio's debug-only misuse tests (`double_register_different_token`,
//   `reregister_without_register`, `deregister_without_register`) are ordinary tests of the
//   contract's errors: `Errno.fileExists` and `Errno.noSuchFileOrDirectory`. One test mio lacks,
//   marked "(contract)", adds the third rule: a closed descriptor gives `Errno.badFileDescriptor`.
// - `poll_registration`: RingPoll's `Source` hooks also receive the trigger, and take the source
//   by value, so the recording source is a class. `poll_erroneous_registration`: with typed
//   throws the hooks' errors are `Errno`s, so each hook throws a different one and the test checks
//   each comes back unchanged (mio compares error messages).
// - Blocking `std` peers on helper threads are RingPoll sockets with bounded waits.

import Glibc
import Synchronization
import Testing
@testable import RingPoll

@Suite("mio poll.rs") struct PollConformanceTests {
    private static let id1 = Token(1)
    private static let id2 = Token(2)
    private static let id3 = Token(3)

    @Test("poll::is_send_and_sync")
    func isSendAndSync() {
        Mio.assertSendable(Events.self)
        Mio.assertSendable(Registry.self)
        // `Poll` is not `Sendable` by design (see the header); nothing to check at run time.
    }

    @Test("poll::run_once_with_nothing", arguments: TestBackends.all)
    func runOnceWithNothing(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        var events = Events(capacity: 16)
        try poll.pollRetrying(&events, timeout: .milliseconds(100))
        #expect(events.isEmpty)
    }

    @Test("poll::add_then_drop", arguments: TestBackends.all)
    func addThenDrop(backend: Backend) throws {
        var events = Events(capacity: 16)
        var listener: TCPListener? = try TCPListener.bind(Mio.anyLocalAddress)
        let poll = try Poll(backend: backend)
        try poll.registry.register(listener!, token: Token(1), interests: [.readable, .writable])
        listener = nil
        try poll.pollRetrying(&events, timeout: .milliseconds(100))
        // mio only asks that the poll succeeds; the contract also says the dropped listener's
        // registration is gone.
        #expect(!events.contains { $0.token == Token(1) })
    }

    @Test("poll::zero_duration_polls_events", arguments: TestBackends.all)
    func zeroDurationPollsEvents(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        var events = Events(capacity: 16)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()

        var streams: [TCPStream] = []
        for n in 0..<3 {
            let stream = try TCPStream.connect(to: address)
            try poll.registry.register(stream, token: Token(n), interests: .writable)
            streams.append(stream)
        }
        // mio sleeps 10 ms so that the connections complete; wait for that instead.
        for stream in streams {
            #expect(waitFor(stream.fileDescriptor, POLLOUT))
        }

        // Even with a zero timeout the poll must ask the kernel.
        try poll.pollRetrying(&events, timeout: .zero)
        #expect(!events.isEmpty)

        withExtendedLifetime((streams, listener)) {}
    }

    @Test("poll::poll_closes_fd", arguments: TestBackends.all)
    func pollClosesFD(backend: Backend) throws {
        for _ in 0..<2000 {
            let poll = try Poll(backend: backend)
            var events = Events(capacity: 4)
            try poll.pollRetrying(&events, timeout: .zero)
        }
    }

    @Test("poll::readiness_is_reregistered_after_would_block", arguments: TestBackends.all)
    func readinessIsReregisteredAfterWouldBlock(backend: Backend) throws {
        let listener = try TCPListener(adopting: try MioStd.tcpListener(Mio.anyLocalAddress))
        let client = try TCPStream(adopting: try MioStd.tcpConnect(try listener.localAddress()))
        let (server, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }

        let test = try MioPoll(backend, capacity: 8)
        try test.registry.register(client, token: Self.id1, interests: .readable)

        try Mio.writeAll(Array("hello".utf8), to: server.fileDescriptor) { try server.write($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try client.read(into: &buffer) == 5)
        Mio.assertWouldBlock { try client.read(into: &buffer) }

        try test.expectNoEvents()

        try Mio.writeAll(Array("again".utf8), to: server.fileDescriptor) { try server.write($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])
        withExtendedLifetime(listener) {}
    }

    /// Dropping a registered stream must close it (the peer reads EOF), on io_uring too, where an
    /// armed poll holds a reference to the file.
    @Test("poll::drop_cancels_interest_and_shuts_down", arguments: TestBackends.all)
    func dropCancelsInterestAndShutsDown(backend: Backend) throws {
        let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
        let address = try listener.localAddress()

        let peer = MioThread {
            let (stream, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
            // mio: a 5 s read timeout, then the read must return 0 (end of stream).
            var buffer = [UInt8](repeating: 0, count: 16)
            let count = try retrying(stream.fileDescriptor, within: .seconds(5)) { () throws(Errno) in
                try stream.read(into: &buffer)
            }
            guard count == 0 else { throw MioPeerFailure("unexpected read of \(count) bytes") }
        }

        let test = try MioPoll(backend)
        var stream: TCPStream? = try TCPStream.connect(to: address)
        try test.registry.register(stream!, token: Token(1), interests: [.readable, .writable])
        try test.eventLoop { $0.token == Token(1) }  // connected

        var buffer = [UInt8](repeating: 0, count: 1024)
        Mio.assertWouldBlock { try stream!.read(into: &buffer) }

        stream = nil
        peer.join()
    }

    @Test("poll::registry_behind_arc", arguments: TestBackends.all)
    func registryBehindArc(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 128)
        let registry = test.registry
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()
        let barrier = MioBarrier(3)

        let thread1 = MioThread {
            try registry.register(listener, token: Token(0), interests: .readable)
            try barrier.arrive()
        }
        let thread2 = MioThread {
            let stream = try TCPStream.connect(to: address)
            try registry.register(stream, token: Token(1), interests: [.readable, .writable])
            try barrier.arrive()
        }

        // mio polls once for 1 s; the threads may register while this poll waits.
        let events = try test.pollOnce(timeout: .seconds(5))
        #expect(events.count >= 1)

        #expect(barrier.wait())
        thread1.join()
        thread2.join()
    }

    /// mio's `registry_ops_flow`: register, deregister, register again, then reregister with
    /// `finalInterests`.
    private static func registryOperationsFlow(
        _ registry: Registry, _ source: some Source, _ token: Token, _ initialInterests: Interest, _ finalInterests: Interest
    ) throws(Errno) {
        try registry.register(source, token: token, interests: initialInterests)
        try registry.deregister(source)
        try registry.register(source, token: token, interests: initialInterests)
        try registry.reregister(source, token: token, interests: finalInterests)
    }

    @Test("poll::registry_operations_are_thread_safe", arguments: TestBackends.all)
    func registryOperationsAreThreadSafe(backend: Backend) throws {
        let test = try MioPoll(backend)
        let registry = test.registry
        let barrier = MioBarrier(4)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()

        // Every thread keeps its source alive until the second barrier.
        let thread1 = MioThread {
            try Self.registryOperationsFlow(registry, listener, Self.id1, .readable, .readable)
            try barrier.arrive()
            try barrier.arrive()
        }
        let thread2 = MioThread {
            let socket = try UDPSocket.bind(Mio.anyLocalAddress)
            try Self.registryOperationsFlow(registry, socket, Self.id2, .writable, [.writable, .readable])
            try barrier.arrive()
            try barrier.arrive()
            withExtendedLifetime(socket) {}
        }
        let thread3 = MioThread {
            let stream = try TCPStream.connect(to: address)
            try Self.registryOperationsFlow(registry, stream, Self.id3, .readable, [.readable, .writable])
            try barrier.arrive()
            try barrier.arrive()
            withExtendedLifetime(stream) {}
        }

        // All threads have done their work before the events are expected.
        #expect(barrier.wait())
        try test.expectEvents([
            MioExpectEvent(Self.id1, .readable),
            MioExpectEvent(Self.id2, .writable),
            MioExpectEvent(Self.id3, .writable),
        ])

        #expect(barrier.wait())
        thread1.join()
        thread2.join()
        thread3.join()
    }

    @Test("poll::register_during_poll", arguments: TestBackends.all)
    func registerDuringPoll(backend: Backend) throws {
        let test = try MioPoll(backend)
        let registry = test.registry
        let selector = registry.selector
        let barrier = MioBarrier(2)

        let thread = MioThread {
            let socket = try UDPSocket.bind(Mio.anyLocalAddress)
            try barrier.arrive()
            // mio sleeps 200 ms so that the main thread is inside its 5 s poll; wait for exactly
            // that instead.
            guard waitUntil(within: .seconds(5), { selector.diagnostics.isPollerAsleep }) else {
                throw MioPeerFailure("the poller never went to sleep")
            }
            try registry.register(socket, token: Self.id1, interests: .writable)
            try barrier.arrive()
            withExtendedLifetime(socket) {}
        }

        // Unblock the thread, then poll while it registers.
        #expect(barrier.wait())
        let events = try test.pollOnce(timeout: .seconds(5))
        #expect(events.count == 1, "expected exactly one event: \(events)")
        #expect(events.first?.token == Self.id1)
        #expect(events.first?.isWritable == true)

        #expect(barrier.wait())
        thread.join()
    }

    /// `reregister` replaces token and interests completely, may keep or change the token, and may
    /// be repeated.
    @Test("poll::reregister_interest_token_usage", arguments: TestBackends.all)
    func reregisterInterestTokenUsage(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket = try UDPSocket.bind(Mio.anyLocalAddress)
        try test.registry.register(socket, token: Self.id1, interests: .readable)
        try test.registry.reregister(socket, token: Self.id1, interests: .readable)
        try test.registry.reregister(socket, token: Self.id2, interests: .writable)
        try test.expectEvents([MioExpectEvent(Self.id2, .writable)])
        withExtendedLifetime(socket) {}
    }

    /// mio (debug only): a second `register` fails. Contract: `Errno.fileExists`.
    @Test("poll::double_register_different_token", arguments: TestBackends.all)
    func doubleRegisterDifferentToken(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
        try poll.registry.register(listener, token: Token(0), interests: .readable)
        Mio.assertError(.fileExists) { try poll.registry.register(listener, token: Token(1), interests: .readable) }
    }

    @Test("poll::poll_ok_after_cancelling_pending_ops", arguments: TestBackends.all)
    func pollOkAfterCancellingPendingOps(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try listener.localAddress()
        let registry = test.registry
        let barrier = MioBarrier(2)

        try registry.register(listener, token: Self.id1, interests: .readable)
        // A poll that only submits the registration's kernel request.
        try test.pollOnce(timeout: .zero)
        // Cancels that request; the new token tells the events apart.
        try registry.reregister(listener, token: Self.id2, interests: .readable)

        let thread = MioThread {
            let stream = try TCPStream.connect(to: address)
            try barrier.arrive()
            try registry.register(stream, token: Self.id3, interests: .writable)
            try barrier.arrive()
            withExtendedLifetime(stream) {}
        }

        // Readable under the new token: the cancelled request is gone and a new one reports.
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])
        _ = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
        #expect(barrier.wait())

        try test.expectEvents([MioExpectEvent(Self.id3, .writable)])

        #expect(barrier.wait())
        thread.join()
    }

    /// mio (debug only): reregistering an unregistered source fails. Contract:
    /// `Errno.noSuchFileOrDirectory`.
    @Test("poll::reregister_without_register", arguments: TestBackends.all)
    func reregisterWithoutRegister(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        Mio.assertError(.noSuchFileOrDirectory) { try poll.registry.reregister(listener, token: Self.id1, interests: .readable) }
    }

    /// mio (debug only): deregistering an unregistered source fails. Contract:
    /// `Errno.noSuchFileOrDirectory`.
    @Test("poll::deregister_without_register", arguments: TestBackends.all)
    func deregisterWithoutRegister(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        Mio.assertError(.noSuchFileOrDirectory) { try poll.registry.deregister(listener) }
    }

    /// Contract, next to mio's debug-only misuse tests (mio has no such test): a source whose
    /// descriptor is not open is refused with `Errno.badFileDescriptor`.
    @Test("poll::(contract) register_closed_descriptor", arguments: TestBackends.all)
    func registerClosedDescriptor(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        try listener.close()
        Mio.assertError(.badFileDescriptor) { try poll.registry.register(listener, token: Self.id1, interests: .readable) }
        Mio.assertError(.badFileDescriptor) {
            try poll.registry.register(SourceFD(closedDescriptorNumber()), token: Self.id2, interests: .readable)
        }
    }

    /// Records every hook call (mio's `TestEventSource`).
    private final class RecordingSource: Source, Sendable {
        struct Calls {
            var registrations: [(Token, Interest, Trigger)] = []
            var reregistrations: [(Token, Interest, Trigger)] = []
            var deregisterCount = 0
        }

        let calls = Mutex(Calls())

        func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
            calls.withLock { $0.registrations.append((token, interests, trigger)) }
        }

        func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
            calls.withLock { $0.reregistrations.append((token, interests, trigger)) }
        }

        func deregister(_ registry: Registry) throws(Errno) {
            calls.withLock { $0.deregisterCount += 1 }
        }
    }

    @Test("poll::poll_registration", arguments: TestBackends.all)
    func pollRegistration(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let registry = poll.registry
        let source = RecordingSource()

        let token = Token(0)
        let interests = Interest.readable
        try registry.register(source, token: token, interests: interests)
        var calls = source.calls.withLock { $0 }
        #expect(calls.registrations.count == 1)
        #expect(calls.registrations.first.map { $0.0 == token && $0.1 == interests && $0.2 == .edge } == true)
        #expect(calls.reregistrations.isEmpty)
        #expect(calls.deregisterCount == 0)

        let reToken = Token(0)
        let reInterests = Interest.readable
        try registry.reregister(source, token: reToken, interests: reInterests)
        calls = source.calls.withLock { $0 }
        #expect(calls.registrations.count == 1)
        #expect(calls.reregistrations.count == 1)
        #expect(calls.reregistrations.first.map { $0.0 == reToken && $0.1 == reInterests } == true)
        #expect(calls.deregisterCount == 0)

        try registry.deregister(source)
        calls = source.calls.withLock { $0 }
        #expect(calls.registrations.count == 1)
        #expect(calls.reregistrations.count == 1)
        #expect(calls.deregisterCount == 1)
    }

    /// Fails every hook with its own error (mio's `ErroneousTestEventSource`).
    private struct ErroneousSource: Source {
        func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
            throw .ioError
        }

        func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
            throw .notSupported
        }

        func deregister(_ registry: Registry) throws(Errno) {
            throw .permissionDenied
        }
    }

    @Test("poll::poll_erroneous_registration", arguments: TestBackends.all)
    func pollErroneousRegistration(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let registry = poll.registry
        let source = ErroneousSource()
        Mio.assertError(.ioError) { try registry.register(source, token: Token(0), interests: .readable) }
        Mio.assertError(.notSupported) { try registry.reregister(source, token: Token(0), interests: .readable) }
        Mio.assertError(.permissionDenied) { try registry.deregister(source) }
    }
}
