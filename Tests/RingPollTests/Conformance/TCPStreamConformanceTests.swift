// Port of mio's tests/tcp_stream.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Skipped, as mio itself skips them on Linux (kept below, disabled, with mio's reason):
// - `shutdown_write`: ignored by mio everywhere ("flaky, it doesn't always receive an event after
//   shutting down the write side").
// - `tcp_shutdown_client_write_close_event`: ignored by mio on Linux ("client write_closed events
//   are not found": a write shutdown alone raises no POLLHUP on Linux).
//
// Differences from mio:
// - `tcp_stream_std` and the peek tests wrap `std` streams with `from_std`; here a raw stream
//   connected with blocking system calls (close-on-exec, as std makes it) is adopted with
//   `TCPStream(adopting:)`, which also sets O_NONBLOCK (mio needs `set_nonblocking(true)`).
// - `raw_fd`: RingPoll has no `into_raw_fd`; the port checks that an adopted raw stream keeps its
//   descriptor number and address (see tcp_listener.rs's port).
// - `echo_listener` and `start_listener` bind on the test thread and serve on a helper thread
//   with RingPoll sockets and bounded waits (mio binds on the helper thread and sends the address
//   over a channel). The echo treats a reset as end of stream, as mio's does.
// - `flush()` is a no-op on mio's streams and has no RingPoll counterpart; it is left out.
// - `no_events_after_deregister` checks `peerAddress()` after waiting (poll(2), bounded) for the
//   connect to finish; mio assumes it has finished during its 50 ms `expect_no_events`.
// - `peek_ok`'s `peek_until_ok` spins on would-block; here each retry waits (bounded) for input.
// - The BSD-only branches (reading after shutting down the read side) are left out.
// - Tests without a `Poll` run once rather than per backend.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio tcp_stream.rs") struct TCPStreamConformanceTests {
    private static let data1 = Array("Hello world!".utf8)
    private static let data2 = Array("Hello mars!".utf8)
    private static let id1 = Token(0)
    private static let id2 = Token(1)

    @Test("tcp_stream::is_send_and_sync")
    func isSendAndSync() {
        Mio.assertSendable(TCPStream.self)
    }

    @Test("tcp_stream::tcp_stream_ipv4", arguments: TestBackends.all)
    func tcpStreamIPv4(backend: Backend) throws {
        try smokeTestTCPStream(backend, Mio.anyLocalAddress) { address throws(Errno) in try TCPStream.connect(to: address) }
    }

    @Test("tcp_stream::tcp_stream_ipv6", arguments: TestBackends.all)
    func tcpStreamIPv6(backend: Backend) throws {
        try smokeTestTCPStream(backend, Mio.anyLocalIPv6Address) { address throws(Errno) in try TCPStream.connect(to: address) }
    }

    @Test("tcp_stream::tcp_stream_std", arguments: TestBackends.all)
    func tcpStreamStd(backend: Backend) throws {
        try smokeTestTCPStream(backend, Mio.anyLocalAddress) { address throws(Errno) in
            try TCPStream(adopting: try MioStd.tcpConnect(address))
        }
    }

    private func smokeTestTCPStream(
        _ backend: Backend, _ address: SocketAddress, _ makeStream: (SocketAddress) throws(Errno) -> TCPStream
    ) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(address, 1)
        let connection = try makeStream(address)

        Mio.assertNonBlocking(connection.fileDescriptor)
        Mio.assertCloseOnExec(connection.fileDescriptor)

        try test.registry.register(connection, token: Self.id1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        var buffer = [UInt8](repeating: 0, count: 16)
        Mio.assertWouldBlock { try connection.peek(into: &buffer) }
        Mio.assertWouldBlock { try connection.read(into: &buffer) }

        // Only after the writable event: before it the stream may not be connected yet.
        #expect(try connection.peerAddress() == address)
        #expect(try connection.localAddress().isLoopback)

        Mio.checkedWrite(Self.data1) { try connection.write($0) }

        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        Mio.expectRead(Self.data1, bufferSize: 16) { try connection.peek(into: &$0) }
        Mio.expectRead(Self.data1, bufferSize: 16) { try connection.read(into: &$0) }

        #expect(connection.takeError() == nil)

        Mio.assertWouldBlock { try connection.read(into: &buffer) }

        let written = try Self.data1.withUnsafeBytes { first in
            try Self.data2.withUnsafeBytes { second in try connection.write([first, second]) }
        }
        #expect(written == Self.data1.count + Self.data2.count)

        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        var buffer1 = [UInt8](repeating: 1, count: Self.data1.count)
        var buffer2 = [UInt8](repeating: 2, count: Self.data2.count + 1)
        let read = try buffer1.withUnsafeMutableBytes { first in
            try buffer2.withUnsafeMutableBytes { second in try connection.read(into: [first, second]) }
        }
        #expect(read == Self.data1.count + Self.data2.count)
        #expect(buffer1 == Self.data1)
        #expect(Array(buffer2.prefix(Self.data2.count)) == Self.data2)
        #expect(buffer2[Self.data2.count] == 2)  // the last byte is untouched

        // mio drops the stream so that the echo thread ends; `close()` is the same here.
        try connection.close()
        thread.join()
    }

    /// mio's `set_get_ttl`, `get_ttl_without_previous_set`, `set_get_nodelay` and
    /// `get_nodelay_without_previous_set` share this shape: connect, wait for writable (the
    /// stream must be connected first on Windows), then `check` the option.
    private func withConnectedStream(_ backend: Backend, _ check: (TCPStream) throws -> Void) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let (thread, address) = try startListener(1, barrier, shutdownWrite: false)

        let stream = try TCPStream.connect(to: address)
        try test.registry.register(stream, token: Self.id1, interests: .writable)
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        try check(stream)
        #expect(stream.takeError() == nil)

        #expect(barrier.wait())
        thread.join()
    }

    @Test("tcp_stream::set_get_ttl", arguments: TestBackends.all)
    func setGetTTL(backend: Backend) throws {
        try withConnectedStream(backend) { stream in
            let ttl: UInt32 = 10
            try stream.setTTL(ttl)
            #expect(try stream.ttl() == ttl)
        }
    }

    @Test("tcp_stream::get_ttl_without_previous_set", arguments: TestBackends.all)
    func getTTLWithoutPreviousSet(backend: Backend) throws {
        try withConnectedStream(backend) { stream in
            _ = try stream.ttl()
        }
    }

    @Test("tcp_stream::set_get_nodelay", arguments: TestBackends.all)
    func setGetNoDelay(backend: Backend) throws {
        try withConnectedStream(backend) { stream in
            try stream.setNoDelay(true)
            #expect(try stream.noDelay() == true)
        }
    }

    @Test("tcp_stream::get_nodelay_without_previous_set", arguments: TestBackends.all)
    func getNoDelayWithoutPreviousSet(backend: Backend) throws {
        try withConnectedStream(backend) { stream in
            _ = try stream.noDelay()
        }
    }

    @Test("tcp_stream::shutdown_read", arguments: TestBackends.all)
    func shutdownRead(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(Mio.anyLocalAddress, 1)
        let connection = try TCPStream.connect(to: address)

        try test.registry.register(connection, token: Self.id1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        Mio.checkedWrite(Self.data2) { try connection.write($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        try connection.shutdown(.read)
        // (On BSDs mio then reads end of stream; on Linux the data can still be read.)

        try connection.close()  // mio: drop(stream)
        thread.join()
    }

    @Test(
        "tcp_stream::shutdown_write",
        .disabled("mio ignores this test: flaky, it doesn't always receive an event after shutting down the write side"),
        arguments: TestBackends.all)
    func shutdownWrite(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(Mio.anyLocalAddress, 1)
        let connection = try TCPStream.connect(to: address)

        try test.registry.register(connection, token: Self.id1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        Mio.checkedWrite(Self.data1) { try connection.write($0) }
        try connection.shutdown(.write)
        Mio.assertError(.brokenPipe) { try connection.write(Self.data2) }

        // The event mio does not always receive.
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        // Reading still works.
        Mio.expectRead(Self.data1, bufferSize: 20) { try connection.read(into: &$0) }

        try connection.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("tcp_stream::shutdown_both", arguments: TestBackends.all)
    func shutdownBoth(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(Mio.anyLocalAddress, 1)
        let connection = try TCPStream.connect(to: address)

        try test.registry.register(connection, token: Self.id1, interests: Interest.writable.union(.readable))
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        Mio.checkedWrite(Self.data1) { try connection.write($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        try connection.shutdown(.both)
        // (On BSDs mio then reads end of stream; on Linux the data can still be read.)

        Mio.assertError(.brokenPipe) { try connection.write(Self.data2) }

        try connection.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("tcp_stream::raw_fd")
    func rawFD() throws {
        let (thread, address) = try startListener(1, nil, shutdownWrite: false)

        let raw = try MioStd.tcpConnect(address)
        let local: SocketAddress = try MioStd.localAddress(raw)
        let stream = try TCPStream(adopting: raw)
        #expect(stream.fileDescriptor == raw)
        #expect(try stream.localAddress() == local)

        thread.join()
        try stream.close()
        #expect(stream.fileDescriptor == -1)
    }

    @Test("tcp_stream::registering", arguments: TestBackends.all)
    func registering(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(Mio.anyLocalAddress, 1)
        let stream = try TCPStream.connect(to: address)

        try test.registry.register(stream, token: Self.id1, interests: .readable)
        try test.expectNoEvents()

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("tcp_stream::reregistering", arguments: TestBackends.all)
    func reregistering(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(Mio.anyLocalAddress, 1)
        let stream = try TCPStream.connect(to: address)

        try test.registry.register(stream, token: Self.id1, interests: .readable)
        try test.registry.reregister(stream, token: Self.id2, interests: .writable)
        try test.expectEvents([MioExpectEvent(Self.id2, .writable)])

        #expect(try stream.peerAddress() == address)

        try stream.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("tcp_stream::no_events_after_deregister", arguments: TestBackends.all)
    func noEventsAfterDeregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (thread, address) = try echoListener(Mio.anyLocalAddress, 1)
        let connection = try TCPStream.connect(to: address)

        try test.registry.register(connection, token: Self.id1, interests: Interest.writable.union(.readable))
        try test.registry.deregister(connection)

        try test.expectNoEvents()

        // Connected (waiting, bounded, for the connect to finish).
        #expect(waitFor(connection.fileDescriptor, POLLOUT))
        #expect(try connection.peerAddress() == address)

        // Reading would block; writing works.
        var buffer = [UInt8](repeating: 0, count: 16)
        Mio.assertWouldBlock { try connection.peek(into: &buffer) }
        Mio.assertWouldBlock { try connection.read(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try connection.write($0) }

        try test.expectNoEvents()

        try connection.close()  // mio: drop(stream)
        thread.join()
    }

    @Test("tcp_stream::tcp_shutdown_client_read_close_event", arguments: TestBackends.all)
    func tcpShutdownClientReadCloseEvent(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let (thread, address) = try startListener(1, barrier, shutdownWrite: false)
        let stream = try TCPStream.connect(to: address)

        try test.registry.register(stream, token: Self.id1, interests: [.readable, .writable])
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        try stream.shutdown(.read)
        try test.expectEvents([MioExpectEvent(Self.id1, .readClosed)])

        #expect(barrier.wait())
        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test(
        "tcp_stream::tcp_shutdown_client_write_close_event",
        .disabled("mio ignores this test on Linux: fails; client write_closed events are not found"),
        arguments: TestBackends.all)
    func tcpShutdownClientWriteCloseEvent(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let (thread, address) = try startListener(1, barrier, shutdownWrite: false)
        let stream = try TCPStream.connect(to: address)

        try test.registry.register(stream, token: Self.id1, interests: [.readable, .writable])
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        try stream.shutdown(.write)
        try test.expectEvents([MioExpectEvent(Self.id1, .writeClosed)])

        #expect(barrier.wait())
        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test("tcp_stream::tcp_shutdown_server_write_close_event", arguments: TestBackends.all)
    func tcpShutdownServerWriteCloseEvent(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let (thread, address) = try startListener(1, barrier, shutdownWrite: true)
        let stream = try TCPStream.connect(to: address)

        try test.registry.register(stream, token: Self.id1, interests: Interest.readable.union(.writable))
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        #expect(barrier.wait())  // the server shuts its writing side down
        try test.expectEvents([MioExpectEvent(Self.id1, .readClosed)])

        #expect(barrier.wait())
        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test("tcp_stream::tcp_reset_close_event", arguments: TestBackends.all)
    func tcpResetCloseEvent(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let stream = try TCPStream.connect(to: try listener.localAddress())

        try test.registry.register(stream, token: Self.id1, interests: Interest.readable.union(.writable))

        var server: TCPStream? = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept().0 }

        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])
        Mio.checkedWrite(Self.data1) { try stream.write($0) }

        // Nothing to read yet.
        var one = [UInt8](repeating: 0, count: 1)
        Mio.assertWouldBlock { try stream.read(into: &one) }

        // The server goes away with unread data: a reset.
        withExtendedLifetime(server) {}
        server = nil

        try test.expectEvents([MioExpectEvent(Self.id1, .readClosed)])

        // Quiesce (bounded).
        var quiet = false
        for _ in 0..<50 {
            if try test.pollOnce(timeout: .milliseconds(100)).isEmpty {
                quiet = true
                break
            }
        }
        #expect(quiet, "events kept coming after the reset")
        withExtendedLifetime(stream) {}
    }

    @Test("tcp_stream::tcp_shutdown_client_both_close_event", arguments: TestBackends.all)
    func tcpShutdownClientBothCloseEvent(backend: Backend) throws {
        let test = try MioPoll(backend)
        let barrier = MioBarrier(2)
        let (thread, address) = try startListener(1, barrier, shutdownWrite: false)
        let stream = try TCPStream.connect(to: address)

        try test.registry.register(stream, token: Self.id1, interests: Interest.readable.union(.writable))
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        try stream.shutdown(.both)
        try test.expectEvents([MioExpectEvent(Self.id1, .writeClosed)])

        #expect(barrier.wait())
        thread.join()
        withExtendedLifetime(stream) {}
    }

    @Test("tcp_stream::hup_event_on_disconnect", arguments: TestBackends.all)
    func hupEventOnDisconnect(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
        let address = try listener.localAddress()
        try test.registry.register(listener, token: Token(0), interests: .readable)

        let stream = try TCPStream.connect(to: address)
        try test.registry.register(stream, token: Token(1), interests: [.readable, .writable])

        try test.expectEvents([
            MioExpectEvent(Token(0), .readable),
            MioExpectEvent(Token(1), .writable),
        ])

        var socket: TCPStream? = try listener.accept().0
        // Prevent a graceful shutdown: closing resets the connection.
        Mio.setLingerZero(socket!.fileDescriptor)
        socket = nil

        try test.expectEvents([MioExpectEvent(Token(1), .readable)])
        withExtendedLifetime(stream) {}
    }

    @Test("tcp_stream::priority_event_on_oob_data", arguments: TestBackends.all)
    func priorityEventOnOOBData(backend: Backend) throws {
        let test = try MioPoll(backend)
        let listener = try TCPListener(adopting: try MioStd.tcpListener(SocketAddress("127.0.0.1:0")))
        let address = try listener.localAddress()

        let client = try TCPStream.connect(to: address)
        try test.registry.register(client, token: Token(0), interests: [.readable, .priority])

        let (stream, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }

        // Out-of-band data must raise a priority event.
        let sent = Self.data1.withUnsafeBytes { bytes in
            Glibc.send(stream.fileDescriptor, bytes.baseAddress, bytes.count, CInt(MSG_OOB))
        }
        #expect(sent == Self.data1.count)
        try test.expectEvents([MioExpectEvent(Token(0), [.readable, .priority])])
        withExtendedLifetime((client, stream)) {}
    }

    /// mio's peek tests start with a `std` pair: a blocking connect, adopted, and the accepted
    /// peer (accepted on a thread in mio; the connect has completed, so here it is accepted in
    /// place).
    private func stdPair() throws -> (listener: TCPListener, stream1: TCPStream, stream2: TCPStream) {
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let stream1 = try TCPStream(adopting: try MioStd.tcpConnect(try listener.localAddress()))
        let (stream2, _) = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept() }
        return (listener, stream1, stream2)
    }

    @Test("tcp_stream::peek_ok", arguments: TestBackends.all)
    func peekOK(backend: Backend) throws {
        var buffer = [UInt8](repeating: 0, count: 2)
        let test = try MioPoll(backend)
        let (listener, stream1, stream2) = try stdPair()

        try test.registry.register(stream1, token: Self.id1, interests: .readable)
        try test.expectNoEvents()

        #expect(try stream2.write([0]) == 1)
        // mio's `peek_until_ok`: peek until a byte is there.
        let peeked = try retrying(stream1.fileDescriptor) { () throws(Errno) in try stream1.peek(into: &buffer) }
        #expect(peeked == 1)
        // A peek does not consume the readiness: the readable event still comes.
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])
        withExtendedLifetime(listener) {}
    }

    @Test("tcp_stream::peek_would_block", arguments: TestBackends.all)
    func peekWouldBlock(backend: Backend) throws {
        var buffer = [UInt8](repeating: 0, count: 1)
        let test = try MioPoll(backend)
        let (listener, stream1, stream2) = try stdPair()

        try test.registry.register(stream1, token: Self.id1, interests: .readable)
        try test.expectNoEvents()

        #expect(try stream2.write([0]) == 1)
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        #expect(try stream1.read(into: &buffer) == 1)
        Mio.assertWouldBlock { try stream1.peek(into: &buffer) }

        #expect(try stream2.write([0, 1, 2, 3]) == 4)
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])
        withExtendedLifetime(listener) {}
    }

    @Test("tcp_stream::read_peek_would_block", arguments: TestBackends.all)
    func readPeekWouldBlock(backend: Backend) throws {
        var buffer = [UInt8](repeating: 0, count: 1)
        let test = try MioPoll(backend)
        let (listener, stream1, stream2) = try stdPair()

        try test.registry.register(stream1, token: Self.id1, interests: .readable)

        Mio.assertWouldBlock { try stream1.read(into: &buffer) }

        #expect(try stream2.write([0]) == 1)
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        #expect(try stream1.read(into: &buffer) == 1)
        Mio.assertWouldBlock { try stream1.peek(into: &buffer) }

        #expect(try stream2.write([1]) == 1)
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])
        withExtendedLifetime(listener) {}
    }

    // MARK: Peers

    /// mio's `echo_listener`: accepts `count` connections one after another and echoes what each
    /// sends until it ends (a reset counts as the end, as after a read shutdown on Linux).
    private func echoListener(_ address: SocketAddress, _ count: Int) throws -> (MioThread, SocketAddress) {
        let listener = try TCPListener.bind(address)
        let localAddress = try listener.localAddress()
        let thread = MioThread {
            var buffer = [UInt8](repeating: 0, count: 128)
            for _ in 0..<count {
                let (stream, _) = try retrying(listener.fileDescriptor, within: .seconds(20)) { () throws(Errno) in
                    try listener.accept()
                }
                while true {
                    let received: Int
                    switch outcome({ () throws(Errno) in
                        try retrying(stream.fileDescriptor, within: .seconds(20)) { () throws(Errno) in try stream.read(into: &buffer) }
                    }) {
                    case .success(let count): received = count
                    case .failure(.connectionReset), .failure(.connectionAbort): received = 0
                    case .failure(let error): throw MioPeerFailure("error reading: \(error)")
                    }
                    if received == 0 { break }
                    let echo = Array(buffer[..<received])
                    let written = try retrying(stream.fileDescriptor, POLLOUT) { () throws(Errno) in try stream.write(echo) }
                    guard written == received else { throw MioPeerFailure("short write") }
                }
            }
        }
        return (thread, localAddress)
    }

    /// mio's `start_listener`: accepts `count` connections; with a barrier, waits on it before
    /// closing each (and, with `shutdownWrite`, shuts the writing side down and waits once more).
    private func startListener(_ count: Int, _ barrier: MioBarrier?, shutdownWrite: Bool) throws -> (MioThread, SocketAddress) {
        let listener = try TCPListener.bind(Mio.anyLocalAddress)
        let localAddress = try listener.localAddress()
        let thread = MioThread {
            for _ in 0..<count {
                let (stream, _) = try retrying(listener.fileDescriptor, within: .seconds(20)) { () throws(Errno) in
                    try listener.accept()
                }
                if let barrier {
                    try barrier.arrive()
                    if shutdownWrite {
                        try stream.shutdown(.write)
                        try barrier.arrive()
                    }
                }
                withExtendedLifetime(stream) {}
            }
        }
        return (thread, localAddress)
    }
}
