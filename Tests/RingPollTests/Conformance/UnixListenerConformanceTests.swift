// Port of mio's tests/unix_listener.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `unix_listener_from_std` wraps a `std` listener; here a listener made with raw system calls
//   (blocking, close-on-exec, as std makes it) is adopted with `UnixListener(adopting:)`, which
//   also sets O_NONBLOCK (mio needs `set_nonblocking(true)`).
// - `open_connections` connects with RingPoll streams on a helper thread (a local connect
//   completes at once, like std's blocking one).
// - `temp_file` paths are unique per run and unlinked afterwards. The abstract name comes from
//   `temporaryAbstractName` instead of `rand::random`.
// - `as_pathname()` is `path`, `as_abstract_name()` is `abstractName`, `is_unnamed()` is
//   `isUnnamed`; `bind_addr` is `bind` with an abstract `UnixAddress`.
// - The Cygwin-only handshakes are left out.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio unix_listener.rs") struct UnixListenerConformanceTests {
    private static let defaultBufferSize = 64
    private static let token1 = Token(0)

    @Test("unix_listener::unix_listener_send_and_sync")
    func unixListenerSendAndSync() {
        Mio.assertSendable(UnixListener.self)
    }

    @Test("unix_listener::unix_listener_smoke", arguments: TestBackends.all)
    func unixListenerSmoke(backend: Backend) throws {
        try smokeTest(backend, "unix_listener_smoke") { path throws(Errno) in try UnixListener.bind(UnixAddress(path: path)) }
    }

    @Test("unix_listener::unix_listener_from_std", arguments: TestBackends.all)
    func unixListenerFromStd(backend: Backend) throws {
        try smokeTest(backend, "unix_listener_from_std") { path throws(Errno) in
            try UnixListener(adopting: try MioStd.unixListener(path))
        }
    }

    @Test("unix_listener::unix_listener_local_addr", arguments: TestBackends.all)
    func unixListenerLocalAddr(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let path = temporarySocketPath("unix_listener_local_addr")
        defer { unlink(path) }

        let listener = try UnixListener.bind(UnixAddress(path: path))
        try test.registry.register(listener, token: Self.token1, interests: Interest.writable.union(.readable))

        let thread = openConnections(path, 1, barrier)
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        let (stream, peerAddress) = try listener.accept()
        #expect(try stream.localAddress().path == path)
        #expect(peerAddress.path == nil)

        #expect(barrier.wait())
        thread.join()
    }

    @Test("unix_listener::unix_listener_register", arguments: TestBackends.all)
    func unixListenerRegister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let path = temporarySocketPath("unix_listener_register")
        defer { unlink(path) }

        let listener = try UnixListener.bind(UnixAddress(path: path))
        try test.registry.register(listener, token: Self.token1, interests: .readable)
        try test.expectNoEvents()
        withExtendedLifetime(listener) {}
    }

    @Test("unix_listener::unix_listener_reregister", arguments: TestBackends.all)
    func unixListenerReregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let path = temporarySocketPath("unix_listener_reregister")
        defer { unlink(path) }

        let listener = try UnixListener.bind(UnixAddress(path: path))
        try test.registry.register(listener, token: Self.token1, interests: .writable)

        let thread = openConnections(path, 1, barrier)
        try test.expectNoEvents()

        try test.registry.reregister(listener, token: Self.token1, interests: .readable)
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        #expect(barrier.wait())
        thread.join()
    }

    @Test("unix_listener::unix_listener_deregister", arguments: TestBackends.all)
    func unixListenerDeregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let path = temporarySocketPath("unix_listener_deregister")
        defer { unlink(path) }

        let listener = try UnixListener.bind(UnixAddress(path: path))
        try test.registry.register(listener, token: Self.token1, interests: .readable)

        let thread = openConnections(path, 1, barrier)

        try test.registry.deregister(listener)
        try test.expectNoEvents()

        #expect(barrier.wait())
        thread.join()
    }

    @Test("unix_listener::unix_listener_abstract_namespace", arguments: TestBackends.all)
    func unixListenerAbstractNamespace(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)

        let name = temporaryAbstractName("mio-abstract-uds")
        let address = try UnixAddress(abstract: name)
        let listener = try UnixListener.bind(address)
        #expect(try listener.localAddress().abstractName == address.abstractName)

        try test.registry.register(listener, token: Self.token1, interests: Interest.writable.union(.readable))
        try test.expectNoEvents()

        let thread = MioThread {
            let connection = try UnixStream.connect(to: address)
            try barrier.arrive()
            try connection.close()  // mio: drop(conn)
        }
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        let (_, peerAddress) = try listener.accept()
        #expect(peerAddress.isUnnamed)

        #expect(barrier.wait())
        thread.join()
    }

    private func smokeTest(_ backend: Backend, _ name: String, _ makeListener: (String) throws(Errno) -> UnixListener) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let path = temporarySocketPath(name)
        defer { unlink(path) }

        let listener = try makeListener(path)

        Mio.assertNonBlocking(listener.fileDescriptor)
        Mio.assertCloseOnExec(listener.fileDescriptor)

        try test.registry.register(listener, token: Self.token1, interests: Interest.writable.union(.readable))
        try test.expectNoEvents()

        let thread = openConnections(path, 1, barrier)
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        let (stream, _) = try listener.accept()

        var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
        Mio.assertWouldBlock { try stream.read(into: &buffer) }

        Mio.assertWouldBlock { try listener.accept() }
        #expect(listener.takeError() == nil)

        #expect(barrier.wait())
        thread.join()
    }

    /// mio's `open_connections`: `count` connections to `path` from a helper thread, each held
    /// until `barrier` is passed.
    private func openConnections(_ path: String, _ count: Int, _ barrier: MioBarrier) -> MioThread {
        MioThread {
            for _ in 0..<count {
                let connection = try UnixStream.connect(to: UnixAddress(path: path))
                try barrier.arrive()
                try connection.close()  // mio: drop(conn)
            }
        }
    }
}
