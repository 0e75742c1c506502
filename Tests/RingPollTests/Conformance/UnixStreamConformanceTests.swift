// Port of mio's tests/unix_stream.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - mio's `std` listeners and streams: `unix_stream_from_std` connects with raw blocking system
//   calls (close-on-exec, as std does) and adopts the stream with `UnixStream(adopting:)`;
//   `unix_stream_connect_addr` adopts a raw listener (which also makes it non-blocking: mio's
//   `from_std` there keeps it blocking, so its helper thread blocks in `accept`; here it retries,
//   bounded). `connect_addr(&SocketAddr)` is `connect(to: UnixAddress)`.
// - `new_echo_listener` and `new_noop_listener` bind on the test thread and serve on a helper
//   thread with RingPoll sockets and bounded waits (mio binds on the helper thread and sends the
//   address back over a channel). `temp_file` paths are unique per run and unlinked afterwards.
// - Dropping the stream to let the helper finish is `close()` (the test still holds it).
// - `flush()` is a no-op in mio and has no RingPoll counterpart; it is left out.
// - The BSD-only branches (reading after a read shutdown; a write-closed event after a write
//   shutdown) and the Cygwin-only handshakes are left out.
// - `unix_stream_peer_addr` involves no `Poll` and runs once; `as_pathname().is_none()` is
//   `path == nil`.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio unix_stream.rs") struct UnixStreamConformanceTests {
    private static let data1 = Array("Hello same host!".utf8)
    private static let data2 = Array("Why hello mio!".utf8)
    private static let defaultBufferSize = 64
    private static let token1 = Token(0)
    private static let token2 = Token(1)

    @Test("unix_stream::unix_stream_send_and_sync")
    func unixStreamSendAndSync() {
        Mio.assertSendable(UnixStream.self)
    }

    @Test("unix_stream::unix_stream_smoke", arguments: TestBackends.all)
    func unixStreamSmoke(backend: Backend) throws {
        try smokeTest(backend, "unix_stream_smoke") { path throws(Errno) in try UnixStream.connect(to: UnixAddress(path: path)) }
    }

    @Test("unix_stream::unix_stream_connect", arguments: TestBackends.all)
    func unixStreamConnect(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let path = temporarySocketPath("unix_stream_connect")
        defer { unlink(path) }

        let listener = try UnixListener.bind(UnixAddress(path: path))
        let stream = try UnixStream.connect(to: UnixAddress(path: path))

        let thread = MioThread {
            let (accepted, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
            try barrier.arrive()
            try accepted.close()  // mio: drop(stream)
        }

        try test.registry.register(stream, token: Self.token1, interests: [.readable, .writable])
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        #expect(barrier.wait())
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test("unix_stream::unix_stream_connect_addr", arguments: TestBackends.all)
    func unixStreamConnectAddr(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let path = temporarySocketPath("unix_stream_connect_addr")
        defer { unlink(path) }

        let listener = try UnixListener(adopting: try MioStd.unixListener(path))
        let localAddress = try listener.localAddress()
        let stream = try UnixStream.connect(to: localAddress)

        let thread = MioThread {
            let (accepted, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
            try barrier.arrive()
            try accepted.close()  // mio: drop(stream)
        }

        try test.registry.register(stream, token: Self.token1, interests: [.readable, .writable])
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        #expect(barrier.wait())
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test("unix_stream::unix_stream_from_std", arguments: TestBackends.all)
    func unixStreamFromStd(backend: Backend) throws {
        try smokeTest(backend, "unix_stream_from_std") { path throws(Errno) in
            try UnixStream(adopting: try MioStd.unixConnect(path))
        }
    }

    @Test("unix_stream::unix_stream_pair", arguments: TestBackends.all)
    func unixStreamPair(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (s1, s2) = try UnixStream.pair()
        try test.registry.register(s1, token: Self.token1, interests: [.readable, .writable])
        try test.registry.register(s2, token: Self.token2, interests: [.readable, .writable])
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
        Mio.assertWouldBlock { try s1.read(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try s1.write($0) }
        Mio.expectRead(Self.data1) { try s2.read(into: &$0) }
        Mio.assertWouldBlock { try s2.read(into: &buffer) }

        Mio.checkedWrite(Self.data2) { try s2.write($0) }
        Mio.expectRead(Self.data2) { try s1.read(into: &$0) }
        Mio.assertWouldBlock { try s2.read(into: &buffer) }
    }

    @Test("unix_stream::unix_stream_peer_addr")
    func unixStreamPeerAddr() throws {
        let (thread, path) = try newEchoListener(1, "unix_stream_peer_addr")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        #expect(try stream.peerAddress().path == path)
        #expect(try stream.localAddress().path == nil)

        try stream.close()  // mio: drop(stream), so that the echo ends
        thread.join()
    }

    @Test("unix_stream::unix_stream_shutdown_read", arguments: TestBackends.all)
    func unixStreamShutdownRead(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, "unix_stream_shutdown_read")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: Interest.readable.union(.writable))
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        Mio.checkedWrite(Self.data1) { try stream.write($0) }
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        try stream.shutdown(.read)
        try test.expectEvents([MioExpectEvent(Self.token1, .readClosed)])
        // (On BSDs mio then reads end of stream; on Linux the data can still be read.)

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("unix_stream::unix_stream_shutdown_write", arguments: TestBackends.all)
    func unixStreamShutdownWrite(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, "unix_stream_shutdown_write")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        Mio.checkedWrite(Self.data1) { try stream.write($0) }
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        try stream.shutdown(.write)
        // (On BSDs mio expects a write-closed event here; Linux raises none.)

        Mio.assertError(.brokenPipe) { try stream.write(Self.data2) }

        // Reading still works.
        Mio.expectRead(Self.data1) { try stream.read(into: &$0) }

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("unix_stream::unix_stream_shutdown_both", arguments: TestBackends.all)
    func unixStreamShutdownBoth(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, "unix_stream_shutdown_both")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        Mio.checkedWrite(Self.data1) { try stream.write($0) }
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        try stream.shutdown(.both)
        try test.expectEvents([MioExpectEvent(Self.token1, .writeClosed)])
        // (On BSDs mio then reads end of stream; on Linux the data can still be read.)

        Mio.assertError(.brokenPipe) { try stream.write(Self.data2) }

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("unix_stream::unix_stream_shutdown_listener_write", arguments: TestBackends.all)
    func unixStreamShutdownListenerWrite(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let (thread, path) = try newNoopListener(1, barrier, "unix_stream_shutdown_listener_write")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: Interest.readable.union(.writable))
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        #expect(barrier.wait())  // the other end shuts its writing side down
        try test.expectEvents([MioExpectEvent(Self.token1, .readClosed)])

        #expect(barrier.wait())
        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test("unix_stream::unix_stream_register", arguments: TestBackends.all)
    func unixStreamRegister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, "unix_stream_register")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: .readable)
        try test.expectNoEvents()

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("unix_stream::unix_stream_reregister", arguments: TestBackends.all)
    func unixStreamReregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, "unix_stream_reregister")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: .readable)
        try test.registry.reregister(stream, token: Self.token1, interests: .writable)
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("unix_stream::unix_stream_deregister", arguments: TestBackends.all)
    func unixStreamDeregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, "unix_stream_deregister")
        defer { unlink(path) }

        let stream = try UnixStream.connect(to: UnixAddress(path: path))
        try test.registry.register(stream, token: Self.token1, interests: .writable)
        try test.registry.deregister(stream)
        try test.expectNoEvents()

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    private func smokeTest(_ backend: Backend, _ name: String, _ connect: (String) throws(Errno) -> UnixStream) throws {
        let test = try MioPoll(backend)
        let (thread, path) = try newEchoListener(1, name)
        defer { unlink(path) }

        let stream = try connect(path)

        Mio.assertNonBlocking(stream.fileDescriptor)
        Mio.assertCloseOnExec(stream.fileDescriptor)

        try test.registry.register(stream, token: Self.token1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
        Mio.assertWouldBlock { try stream.read(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try stream.write($0) }
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        Mio.expectRead(Self.data1) { try stream.read(into: &$0) }

        #expect(stream.takeError() == nil)

        Mio.assertWouldBlock { try stream.read(into: &buffer) }

        let written = try Self.data1.withUnsafeBytes { first in
            try Self.data2.withUnsafeBytes { second in try stream.write([first, second]) }
        }
        #expect(written == Self.data1.count + Self.data2.count)
        try test.expectEvents([MioExpectEvent(Self.token1, .readable)])

        var buffer1 = [UInt8](repeating: 1, count: Self.data1.count)
        var buffer2 = [UInt8](repeating: 2, count: Self.data2.count + 1)
        let read = try buffer1.withUnsafeMutableBytes { first in
            try buffer2.withUnsafeMutableBytes { second in try stream.read(into: [first, second]) }
        }
        #expect(read == Self.data1.count + Self.data2.count)
        #expect(buffer1 == Self.data1)
        #expect(Array(buffer2.prefix(Self.data2.count)) == Self.data2)
        #expect(buffer2[Self.data2.count] == 2)  // the last byte is untouched

        try stream.close()  // mio: drop(stream), so that the echo ends
        thread.join()
    }

    // MARK: Peers

    /// mio's `new_echo_listener`: accepts `count` connections one after another and echoes
    /// each until it ends (a reset or a broken pipe end it too); then checks that it wrote back as
    /// much as it read. Returns the helper and the listener's path (which the caller unlinks).
    private func newEchoListener(_ count: Int, _ name: String) throws -> (MioThread, String) {
        let path = temporarySocketPath(name)
        let listener = try UnixListener.bind(UnixAddress(path: path))
        let thread = MioThread {
            for _ in 0..<count {
                let (stream, _) = try retrying(listener.fileDescriptor, within: .seconds(20)) { () throws(Errno) in
                    try listener.accept()
                }
                var (read, written) = (0, 0)
                var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
                echo: while true {
                    let received: Int
                    switch outcome({ () throws(Errno) in
                        try retrying(stream.fileDescriptor, within: .seconds(20)) { () throws(Errno) in try stream.read(into: &buffer) }
                    }) {
                    case .success(let count): received = count
                    case .failure(.connectionReset), .failure(.connectionAbort): break echo
                    case .failure(let error): throw MioPeerFailure("\(error)")
                    }
                    read += received
                    if received == 0 { break }
                    let echo = Array(buffer[..<received])
                    switch outcome({ () throws(Errno) in
                        try retrying(stream.fileDescriptor, POLLOUT) { () throws(Errno) in try stream.write(echo) }
                    }) {
                    case .success(let count): written += count
                    case .failure(.brokenPipe): break echo
                    case .failure(let error): throw MioPeerFailure("\(error)")
                    }
                }
                guard read == written else { throw MioPeerFailure("unequal reads (\(read)) and writes (\(written))") }
            }
        }
        return (thread, path)
    }

    /// mio's `new_noop_listener`: accepts `count` connections; for each, waits on `barrier`,
    /// shuts the writing side down, waits again, and drops it.
    private func newNoopListener(_ count: Int, _ barrier: MioBarrier, _ name: String) throws -> (MioThread, String) {
        let path = temporarySocketPath(name)
        let listener = try UnixListener.bind(UnixAddress(path: path))
        let thread = MioThread {
            for _ in 0..<count {
                let (stream, _) = try retrying(listener.fileDescriptor, within: .seconds(20)) { () throws(Errno) in
                    try listener.accept()
                }
                try barrier.arrive()
                try stream.shutdown(.write)
                try barrier.arrive()
                try stream.close()
            }
        }
        return (thread, path)
    }
}
