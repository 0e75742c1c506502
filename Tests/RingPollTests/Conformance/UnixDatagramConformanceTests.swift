// Port of mio's tests/unix_datagram.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - The `_from_std` variants wrap `std` sockets; here sockets made with raw system calls
//   (blocking, close-on-exec, as std makes them) are adopted with `UnixDatagram(adopting:)`, which
//   also sets O_NONBLOCK (mio needs `set_nonblocking(true)`).
// - Paths are `UnixAddress`es: `connect(&path)` is `connect(to: UnixAddress(path:))`, and
//   `as_pathname()` is `path`. `temp_file` paths are unique per run and unlinked afterwards.
// - `unix_datagram_connect` involves no `Poll` and runs once.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio unix_datagram.rs") struct UnixDatagramConformanceTests {
    private static let data1 = Array("Hello same host!".utf8)
    private static let data2 = Array("Why hello mio!".utf8)
    private static let defaultBufferSize = 64
    private static let token1 = Token(0)
    private static let token2 = Token(1)

    @Test("unix_datagram::is_send_and_sync")
    func isSendAndSync() {
        Mio.assertSendable(UnixDatagram.self)
    }

    @Test("unix_datagram::unix_datagram_smoke_unconnected", arguments: TestBackends.all)
    func unixDatagramSmokeUnconnected(backend: Backend) throws {
        let path1 = temporarySocketPath("unix_datagram_smoke_unconnected1")
        let path2 = temporarySocketPath("unix_datagram_smoke_unconnected2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram.bind(UnixAddress(path: path1))
        let datagram2 = try UnixDatagram.bind(UnixAddress(path: path2))
        try smokeTestUnconnected(backend, datagram1, datagram2)
    }

    @Test("unix_datagram::unix_datagram_smoke_connected", arguments: TestBackends.all)
    func unixDatagramSmokeConnected(backend: Backend) throws {
        let path1 = temporarySocketPath("unix_datagram_smoke_connected1")
        let path2 = temporarySocketPath("unix_datagram_smoke_connected2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram.bind(UnixAddress(path: path1))
        let datagram2 = try UnixDatagram.bind(UnixAddress(path: path2))
        try datagram1.connect(to: UnixAddress(path: path2))
        try datagram2.connect(to: UnixAddress(path: path1))
        try smokeTestConnected(backend, datagram1, datagram2)
    }

    @Test("unix_datagram::unix_datagram_smoke_unconnected_from_std", arguments: TestBackends.all)
    func unixDatagramSmokeUnconnectedFromStd(backend: Backend) throws {
        let path1 = temporarySocketPath("unix_datagram_smoke_unconnected_from_std1")
        let path2 = temporarySocketPath("unix_datagram_smoke_unconnected_from_std2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram(adopting: try MioStd.unixDatagram(path1))
        let datagram2 = try UnixDatagram(adopting: try MioStd.unixDatagram(path2))
        try smokeTestUnconnected(backend, datagram1, datagram2)
    }

    @Test("unix_datagram::unix_datagram_smoke_connected_from_std", arguments: TestBackends.all)
    func unixDatagramSmokeConnectedFromStd(backend: Backend) throws {
        let path1 = temporarySocketPath("unix_datagram_smoke_connected_from_std1")
        let path2 = temporarySocketPath("unix_datagram_smoke_connected_from_std2")
        defer { unlink(path1); unlink(path2) }

        let raw1 = try MioStd.unixDatagram(path1)
        let raw2 = try MioStd.unixDatagram(path2)
        try MioStd.unixDatagramConnect(raw1, path2)
        try MioStd.unixDatagramConnect(raw2, path1)

        let datagram1 = try UnixDatagram(adopting: raw1)
        let datagram2 = try UnixDatagram(adopting: raw2)
        try smokeTestConnected(backend, datagram1, datagram2)
    }

    @Test("unix_datagram::unix_datagram_connect")
    func unixDatagramConnect() throws {
        let path1 = temporarySocketPath("unix_datagram_connect1")
        let path2 = temporarySocketPath("unix_datagram_connect2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram.bind(UnixAddress(path: path1))
        let local1 = try datagram1.localAddress()
        let datagram2 = try UnixDatagram.bind(UnixAddress(path: path2))
        let local2 = try datagram2.localAddress()

        let pathname1 = try #require(local1.path, "failed to get pathname")
        let pathname2 = try #require(local2.path, "failed to get pathname")
        try datagram1.connect(to: UnixAddress(path: pathname1))
        try datagram2.connect(to: UnixAddress(path: pathname2))
    }

    @Test("unix_datagram::unix_datagram_pair", arguments: TestBackends.all)
    func unixDatagramPair(backend: Backend) throws {
        let test = try MioPoll(backend)
        let (datagram1, datagram2) = try UnixDatagram.pair()
        try test.registry.register(datagram1, token: Self.token1, interests: [.readable, .writable])
        try test.registry.register(datagram2, token: Self.token2, interests: [.readable, .writable])
        try test.expectEvents([
            MioExpectEvent(Self.token1, .writable),
            MioExpectEvent(Self.token2, .writable),
        ])

        var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
        Mio.assertWouldBlock { try datagram1.receive(into: &buffer) }
        Mio.assertWouldBlock { try datagram2.receive(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try datagram1.send($0) }
        Mio.checkedWrite(Self.data2) { try datagram2.send($0) }
        try test.expectEvents([
            MioExpectEvent(Self.token1, .readable),
            MioExpectEvent(Self.token2, .readable),
        ])

        Mio.expectRead(Self.data2) { try datagram1.receive(into: &$0) }
        Mio.expectRead(Self.data1) { try datagram2.receive(into: &$0) }

        #expect(datagram1.takeError() == nil)
        #expect(datagram2.takeError() == nil)
    }

    @Test("unix_datagram::unix_datagram_shutdown", arguments: TestBackends.all)
    func unixDatagramShutdown(backend: Backend) throws {
        let test = try MioPoll(backend)
        let path1 = temporarySocketPath("unix_datagram_shutdown1")
        let path2 = temporarySocketPath("unix_datagram_shutdown2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram.bind(UnixAddress(path: path1))
        let datagram2 = try UnixDatagram.bind(UnixAddress(path: path2))

        try test.registry.register(datagram1, token: Self.token1, interests: Interest.writable.union(.readable))
        try test.registry.register(datagram2, token: Self.token2, interests: Interest.writable.union(.readable))

        try datagram1.connect(to: UnixAddress(path: path2))
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])

        Mio.checkedWrite(Self.data1) { try datagram1.send($0) }
        try test.expectEvents([MioExpectEvent(Self.token2, .readable)])

        try datagram1.shutdown(.read)
        try test.expectEvents([MioExpectEvent(Self.token1, .readClosed)])

        try datagram1.shutdown(.write)
        try test.expectEvents([MioExpectEvent(Self.token1, .writeClosed)])

        Mio.assertError(.brokenPipe) { try datagram1.send(Self.data2) }

        #expect(datagram1.takeError() == nil)
        withExtendedLifetime(datagram2) {}
    }

    @Test("unix_datagram::unix_datagram_register", arguments: TestBackends.all)
    func unixDatagramRegister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let path = temporarySocketPath("unix_datagram_register")
        defer { unlink(path) }

        let datagram = try UnixDatagram.bind(UnixAddress(path: path))
        try test.registry.register(datagram, token: Self.token1, interests: .readable)
        try test.expectNoEvents()
        withExtendedLifetime(datagram) {}
    }

    @Test("unix_datagram::unix_datagram_reregister", arguments: TestBackends.all)
    func unixDatagramReregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let path1 = temporarySocketPath("unix_datagram_reregister1")
        let path2 = temporarySocketPath("unix_datagram_reregister2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram.bind(UnixAddress(path: path1))
        try test.registry.register(datagram1, token: Self.token1, interests: .readable)

        let datagram2 = try UnixDatagram.bind(UnixAddress(path: path2))
        try datagram2.connect(to: UnixAddress(path: path1))
        try test.registry.reregister(datagram1, token: Self.token1, interests: .writable)
        try test.expectEvents([MioExpectEvent(Self.token1, .writable)])
        withExtendedLifetime((datagram1, datagram2)) {}
    }

    @Test("unix_datagram::unix_datagram_deregister", arguments: TestBackends.all)
    func unixDatagramDeregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let path1 = temporarySocketPath("unix_datagram_deregister1")
        let path2 = temporarySocketPath("unix_datagram_deregister2")
        defer { unlink(path1); unlink(path2) }

        let datagram1 = try UnixDatagram.bind(UnixAddress(path: path1))
        try test.registry.register(datagram1, token: Self.token1, interests: .writable)

        let datagram2 = try UnixDatagram.bind(UnixAddress(path: path2))
        try datagram2.connect(to: UnixAddress(path: path1))
        try test.registry.deregister(datagram1)
        try test.expectNoEvents()
        withExtendedLifetime((datagram1, datagram2)) {}
    }

    private func smokeTestUnconnected(_ backend: Backend, _ datagram1: UnixDatagram, _ datagram2: UnixDatagram) throws {
        let test = try MioPoll(backend)

        Mio.assertNonBlocking(datagram1.fileDescriptor)
        Mio.assertCloseOnExec(datagram1.fileDescriptor)
        Mio.assertNonBlocking(datagram2.fileDescriptor)
        Mio.assertCloseOnExec(datagram2.fileDescriptor)

        let address1 = try datagram1.localAddress()
        let address2 = try datagram2.localAddress()
        let path1 = try #require(address1.path, "failed to get pathname")
        let path2 = try #require(address2.path, "failed to get pathname")

        try test.registry.register(datagram1, token: Self.token1, interests: Interest.readable.union(.writable))
        try test.registry.register(datagram2, token: Self.token2, interests: Interest.readable.union(.writable))
        try test.expectEvents([
            MioExpectEvent(Self.token1, .writable),
            MioExpectEvent(Self.token2, .writable),
        ])

        var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
        Mio.assertWouldBlock { try datagram1.receiveFrom(into: &buffer) }
        Mio.assertWouldBlock { try datagram2.receiveFrom(into: &buffer) }

        let target1 = try UnixAddress(path: path1)
        let target2 = try UnixAddress(path: path2)
        Mio.checkedWrite(Self.data1) { try datagram1.send($0, to: target2) }
        Mio.checkedWrite(Self.data2) { try datagram2.send($0, to: target1) }
        try test.expectEvents([
            MioExpectEvent(Self.token1, .readable),
            MioExpectEvent(Self.token2, .readable),
        ])

        // mio's `expect_read!(…, path: …)`: the sender's path.
        Mio.expectReadFrom(Self.data2, source: target2) { try datagram1.receiveFrom(into: &$0) }
        Mio.expectReadFrom(Self.data1, source: target1) { try datagram2.receiveFrom(into: &$0) }

        #expect(datagram1.takeError() == nil)
        #expect(datagram2.takeError() == nil)
    }

    private func smokeTestConnected(_ backend: Backend, _ datagram1: UnixDatagram, _ datagram2: UnixDatagram) throws {
        let test = try MioPoll(backend)

        Mio.assertNonBlocking(datagram1.fileDescriptor)
        Mio.assertCloseOnExec(datagram1.fileDescriptor)
        Mio.assertNonBlocking(datagram2.fileDescriptor)
        Mio.assertCloseOnExec(datagram2.fileDescriptor)

        let local1 = try datagram1.localAddress()
        let peer1 = try datagram1.peerAddress()
        let local2 = try datagram2.localAddress()
        let peer2 = try datagram2.peerAddress()
        #expect(local1.path != nil && local1.path == peer2.path)
        #expect(local2.path != nil && local2.path == peer1.path)

        try test.registry.register(datagram1, token: Self.token1, interests: Interest.readable.union(.writable))
        try test.registry.register(datagram2, token: Self.token2, interests: Interest.readable.union(.writable))
        try test.expectEvents([
            MioExpectEvent(Self.token1, .writable),
            MioExpectEvent(Self.token2, .writable),
        ])

        var buffer = [UInt8](repeating: 0, count: Self.defaultBufferSize)
        Mio.assertWouldBlock { try datagram1.receive(into: &buffer) }
        Mio.assertWouldBlock { try datagram2.receive(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try datagram1.send($0) }
        Mio.checkedWrite(Self.data2) { try datagram2.send($0) }
        try test.expectEvents([
            MioExpectEvent(Self.token1, .readable),
            MioExpectEvent(Self.token2, .readable),
        ])

        Mio.expectRead(Self.data2) { try datagram1.receive(into: &$0) }
        Mio.expectRead(Self.data1) { try datagram2.receive(into: &$0) }

        #expect(datagram1.takeError() == nil)
        #expect(datagram2.takeError() == nil)
    }
}
