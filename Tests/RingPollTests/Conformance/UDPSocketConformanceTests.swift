// Port of mio's tests/udp_socket.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `assert_size` (release builds only in mio): RingPoll's sockets are classes, so a variable
//   holding one is one reference; that is what the port checks.
// - The `_std` variants wrap `std` sockets with `from_std`; here raw sockets (blocking,
//   close-on-exec, as std makes them) are adopted with `UDPSocket(adopting:)`, which also sets
//   O_NONBLOCK (mio needs `set_nonblocking(true)`).
// - `udp_socket_raw_fd`: RingPoll has no `into_raw_fd`; the port checks that an adopted raw socket
//   keeps its descriptor number and address.
// - `empty_datagram` also checks the contract's rule for empty receive buffers
//   (`Errno.invalidArgument`, where mio's `recv_from` would return Ok(0)).
// - `unconnected_udp_socket_connected_methods` compares the error text "address required"; the
//   contract's error is `Errno.addressRequired` (EDESTADDRREQ).
// - `connected_udp_socket_unconnected_methods` asserts nothing about `send_to` on a connected
//   socket on Linux (Linux allows it), and neither does this port.
// - `udp_socket_no_events_after_deregister` receives with a bounded retry: mio relies on the
//   datagram having arrived during its 50 ms `expect_no_events` poll.
// - `send_packets` sends from a RingPoll socket on a helper thread.
// - Event loops that poll with no timeout are bounded in time. mio's handlers advance their
//   send buffer by what was sent; a datagram is sent whole, so sending stops once it is empty.
// - Tests without a `Poll` (the socket options) run once rather than per backend.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio udp_socket.rs") struct UDPSocketConformanceTests {
    private static let data1 = Array("Hello world!".utf8)
    private static let data2 = Array("Hello mars!".utf8)

    private static let listener = Token(0)
    private static let sender = Token(1)
    private static let id1 = Token(2)
    private static let id2 = Token(3)
    private static let id3 = Token(4)

    @Test("udp_socket::assert_size")
    func assertSize() {
        #expect(MemoryLayout<UDPSocket>.size == MemoryLayout<UnsafeRawPointer>.size)
    }

    @Test("udp_socket::empty_datagram", arguments: TestBackends.all)
    func emptyDatagram(backend: Backend) throws {
        let test = try MioPoll(backend)
        let s1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let s2 = try UDPSocket.bind(Mio.anyLocalAddress)

        try test.registry.register(s1, token: Self.id1, interests: .writable)
        try test.registry.register(s2, token: Self.id2, interests: .readable)
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        let target = try s2.localAddress()
        Mio.checkedWrite([]) { try s1.send($0, to: target) }

        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        // Contract, where mio would return Ok(0): receiving into an empty buffer throws
        // `Errno.invalidArgument` (a 0 could not be told from the empty datagram) and leaves the
        // datagram queued.
        var noRoom: [UInt8] = []
        Mio.assertError(.invalidArgument) { try s2.receiveFrom(into: &noRoom) }

        let source = try s1.localAddress()
        Mio.expectReadFrom([], source: source, bufferSize: 10) { try s2.receiveFrom(into: &$0) }
    }

    @Test("udp_socket::is_send_and_sync")
    func isSendAndSync() {
        Mio.assertSendable(UDPSocket.self)
    }

    @Test("udp_socket::unconnected_udp_socket_ipv4", arguments: TestBackends.all)
    func unconnectedUDPSocketIPv4(backend: Backend) throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        try smokeTestUnconnectedUDPSocket(backend, socket1, socket2)
    }

    @Test("udp_socket::unconnected_udp_socket_ipv6", arguments: TestBackends.all)
    func unconnectedUDPSocketIPv6(backend: Backend) throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalIPv6Address)
        let socket2 = try UDPSocket.bind(Mio.anyLocalIPv6Address)
        try smokeTestUnconnectedUDPSocket(backend, socket1, socket2)
    }

    @Test("udp_socket::unconnected_udp_socket_std", arguments: TestBackends.all)
    func unconnectedUDPSocketStd(backend: Backend) throws {
        let socket1 = try UDPSocket(adopting: try MioStd.udpBind(Mio.anyLocalAddress))
        let socket2 = try UDPSocket(adopting: try MioStd.udpBind(Mio.anyLocalAddress))
        try smokeTestUnconnectedUDPSocket(backend, socket1, socket2)
    }

    private func smokeTestUnconnectedUDPSocket(_ backend: Backend, _ socket1: UDPSocket, _ socket2: UDPSocket) throws {
        let test = try MioPoll(backend)

        Mio.assertNonBlocking(socket1.fileDescriptor)
        Mio.assertCloseOnExec(socket1.fileDescriptor)
        Mio.assertNonBlocking(socket2.fileDescriptor)
        Mio.assertCloseOnExec(socket2.fileDescriptor)

        let address1 = try socket1.localAddress()
        let address2 = try socket2.localAddress()

        try test.registry.register(socket1, token: Self.id1, interests: Interest.readable.union(.writable))
        try test.registry.register(socket2, token: Self.id2, interests: Interest.readable.union(.writable))
        try test.expectEvents([
            MioExpectEvent(Self.id1, .writable),
            MioExpectEvent(Self.id2, .writable),
        ])

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.assertWouldBlock { try socket1.peekFrom(into: &buffer) }
        Mio.assertWouldBlock { try socket1.receiveFrom(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try socket1.send($0, to: address2) }
        Mio.checkedWrite(Self.data2) { try socket2.send($0, to: address1) }

        try test.expectEvents([
            MioExpectEvent(Self.id1, .readable),
            MioExpectEvent(Self.id2, .readable),
        ])

        Mio.expectReadFrom(Self.data2, source: address2, bufferSize: 20) { try socket1.peekFrom(into: &$0) }
        Mio.expectReadFrom(Self.data1, source: address1, bufferSize: 20) { try socket2.peekFrom(into: &$0) }

        Mio.expectReadFrom(Self.data2, source: address2, bufferSize: 20) { try socket1.receiveFrom(into: &$0) }
        Mio.expectReadFrom(Self.data1, source: address1, bufferSize: 20) { try socket2.receiveFrom(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
    }

    @Test("udp_socket::set_get_ttl")
    func setGetTTL() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let ttl: UInt32 = 10
        try socket1.setTTL(ttl)
        #expect(try socket1.ttl() == ttl)
        #expect(socket1.takeError() == nil)
    }

    @Test("udp_socket::get_ttl_without_previous_set")
    func getTTLWithoutPreviousSet() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        _ = try socket1.ttl()
    }

    @Test("udp_socket::set_get_broadcast")
    func setGetBroadcast() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        try socket1.setBroadcast(true)
        #expect(try socket1.broadcast())
        try socket1.setBroadcast(false)
        #expect(try !socket1.broadcast())
        #expect(socket1.takeError() == nil)
    }

    @Test("udp_socket::get_broadcast_without_previous_set")
    func getBroadcastWithoutPreviousSet() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        _ = try socket1.broadcast()
    }

    @Test("udp_socket::set_get_multicast_loop_v4")
    func setGetMulticastLoopV4() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        try socket1.setMulticastLoopV4(true)
        #expect(try socket1.multicastLoopV4())
        try socket1.setMulticastLoopV4(false)
        #expect(try !socket1.multicastLoopV4())
        #expect(socket1.takeError() == nil)
    }

    @Test("udp_socket::get_multicast_loop_v4_without_previous_set")
    func getMulticastLoopV4WithoutPreviousSet() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        _ = try socket1.multicastLoopV4()
    }

    @Test("udp_socket::set_get_multicast_ttl_v4")
    func setGetMulticastTTLV4() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let ttl: UInt32 = 10
        try socket1.setMulticastTTLV4(ttl)
        #expect(try socket1.multicastTTLV4() == ttl)
        #expect(socket1.takeError() == nil)
    }

    @Test("udp_socket::get_multicast_ttl_v4_without_previous_set")
    func getMulticastTTLV4WithoutPreviousSet() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        _ = try socket1.multicastTTLV4()
    }

    @Test("udp_socket::set_get_multicast_loop_v6")
    func setGetMulticastLoopV6() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalIPv6Address)
        try socket1.setMulticastLoopV6(true)
        #expect(try socket1.multicastLoopV6())
        try socket1.setMulticastLoopV6(false)
        #expect(try !socket1.multicastLoopV6())
        #expect(socket1.takeError() == nil)
    }

    @Test("udp_socket::get_multicast_loop_v6_without_previous_set")
    func getMulticastLoopV6WithoutPreviousSet() throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalIPv6Address)
        _ = try socket1.multicastLoopV6()
    }

    @Test("udp_socket::connected_udp_socket_ipv4", arguments: TestBackends.all)
    func connectedUDPSocketIPv4(backend: Backend) throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let address1 = try socket1.localAddress()
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let address2 = try socket2.localAddress()
        try socket1.connect(to: address2)
        try socket2.connect(to: address1)
        try smokeTestConnectedUDPSocket(backend, socket1, socket2)
    }

    @Test("udp_socket::connected_udp_socket_ipv6", arguments: TestBackends.all)
    func connectedUDPSocketIPv6(backend: Backend) throws {
        let socket1 = try UDPSocket.bind(Mio.anyLocalIPv6Address)
        let address1 = try socket1.localAddress()
        let socket2 = try UDPSocket.bind(Mio.anyLocalIPv6Address)
        let address2 = try socket2.localAddress()
        try socket1.connect(to: address2)
        try socket2.connect(to: address1)
        try smokeTestConnectedUDPSocket(backend, socket1, socket2)
    }

    @Test("udp_socket::connected_udp_socket_std", arguments: TestBackends.all)
    func connectedUDPSocketStd(backend: Backend) throws {
        let raw1 = try MioStd.udpBind(Mio.anyLocalAddress)
        let raw2 = try MioStd.udpBind(Mio.anyLocalAddress)
        let address1: SocketAddress = try MioStd.localAddress(raw1)
        let address2: SocketAddress = try MioStd.localAddress(raw2)
        try MioStd.udpConnect(raw1, address2)
        try MioStd.udpConnect(raw2, address1)
        let socket1 = try UDPSocket(adopting: raw1)
        let socket2 = try UDPSocket(adopting: raw2)
        try smokeTestConnectedUDPSocket(backend, socket1, socket2)
    }

    private func smokeTestConnectedUDPSocket(_ backend: Backend, _ socket1: UDPSocket, _ socket2: UDPSocket) throws {
        let test = try MioPoll(backend)

        Mio.assertNonBlocking(socket1.fileDescriptor)
        Mio.assertCloseOnExec(socket1.fileDescriptor)
        Mio.assertNonBlocking(socket2.fileDescriptor)
        Mio.assertCloseOnExec(socket2.fileDescriptor)

        try test.registry.register(socket1, token: Self.id1, interests: Interest.readable.union(.writable))
        try test.registry.register(socket2, token: Self.id2, interests: Interest.readable.union(.writable))
        try test.expectEvents([
            MioExpectEvent(Self.id1, .writable),
            MioExpectEvent(Self.id2, .writable),
        ])

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.assertWouldBlock { try socket1.peek(into: &buffer) }
        Mio.assertWouldBlock { try socket1.receive(into: &buffer) }

        Mio.checkedWrite(Self.data1) { try socket1.send($0) }
        Mio.checkedWrite(Self.data2) { try socket2.send($0) }

        try test.expectEvents([
            MioExpectEvent(Self.id1, .readable),
            MioExpectEvent(Self.id2, .readable),
        ])

        Mio.expectRead(Self.data2, bufferSize: 20) { try socket1.peek(into: &$0) }
        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.peek(into: &$0) }

        Mio.expectRead(Self.data2, bufferSize: 20) { try socket1.receive(into: &$0) }
        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.receive(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
    }

    @Test("udp_socket::reconnect_udp_socket_sending", arguments: TestBackends.all)
    func reconnectUDPSocketSending(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket3 = try UDPSocket.bind(Mio.anyLocalAddress)

        let address1 = try socket1.localAddress()
        let address2 = try socket2.localAddress()
        let address3 = try socket3.localAddress()

        try socket1.connect(to: address2)
        try socket2.connect(to: address1)
        try socket3.connect(to: address1)

        try test.registry.register(socket1, token: Self.id1, interests: Interest.readable.union(.writable))
        try test.registry.register(socket2, token: Self.id2, interests: .readable)
        try test.registry.register(socket3, token: Self.id3, interests: .readable)

        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        Mio.checkedWrite(Self.data1) { try socket1.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.receive(into: &$0) }

        try socket1.connect(to: address3)
        Mio.checkedWrite(Self.data2) { try socket1.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id3, .readable)])

        Mio.expectRead(Self.data2, bufferSize: 20) { try socket3.receive(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
        #expect(socket3.takeError() == nil)
    }

    @Test("udp_socket::reconnect_udp_socket_receiving", arguments: TestBackends.all)
    func reconnectUDPSocketReceiving(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket3 = try UDPSocket.bind(Mio.anyLocalAddress)

        let address1 = try socket1.localAddress()
        let address2 = try socket2.localAddress()
        let address3 = try socket3.localAddress()

        try socket1.connect(to: address2)
        try socket2.connect(to: address1)
        try socket3.connect(to: address1)

        try test.registry.register(socket1, token: Self.id1, interests: .readable)
        try test.registry.register(socket2, token: Self.id2, interests: .writable)
        try test.registry.register(socket3, token: Self.id3, interests: .writable)

        try test.expectEvents([
            MioExpectEvent(Self.id2, .writable),
            MioExpectEvent(Self.id3, .writable),
        ])

        Mio.checkedWrite(Self.data1) { try socket2.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.expectRead(Self.data1, bufferSize: 20) { try socket1.receive(into: &$0) }

        // Draining to would-block is what re-arms an edge-triggered registration.
        Mio.assertWouldBlock { try socket1.receive(into: &buffer) }

        try socket1.connect(to: address3)
        Mio.checkedWrite(Self.data2) { try socket3.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        // Read the whole datagram.
        Mio.expectRead(Self.data2, bufferSize: 20) { try socket1.receive(into: &$0) }
        Mio.assertWouldBlock { try socket1.receive(into: &buffer) }

        // Connect back to socket 2.
        try socket1.connect(to: address2)
        Mio.checkedWrite(Self.data2) { try socket2.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id1, .readable)])

        Mio.expectRead(Self.data2, bufferSize: 20) { try socket1.receive(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
        #expect(socket3.takeError() == nil)
    }

    @Test("udp_socket::unconnected_udp_socket_connected_methods", arguments: TestBackends.all)
    func unconnectedUDPSocketConnectedMethods(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let address2 = try socket2.localAddress()

        try test.registry.register(socket1, token: Self.id1, interests: .writable)
        try test.registry.register(socket2, token: Self.id2, interests: .readable)
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        // Unconnected, but using a connected method: "address required".
        Mio.assertError(.addressRequired) { try socket1.send(Self.data1) }

        // Now send some actual data.
        Mio.checkedWrite(Self.data1) { try socket1.send($0, to: address2) }
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        // Receiving does not need a connection; the sender is just not reported.
        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.peek(into: &$0) }
        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.receive(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
    }

    @Test("udp_socket::connected_udp_socket_unconnected_methods", arguments: TestBackends.all)
    func connectedUDPSocketUnconnectedMethods(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket3 = try UDPSocket.bind(Mio.anyLocalAddress)

        let address2 = try socket2.localAddress()
        let address3 = try socket3.localAddress()

        try socket1.connect(to: address3)
        try socket3.connect(to: address2)

        try test.registry.register(socket1, token: Self.id1, interests: .writable)
        try test.registry.register(socket2, token: Self.id2, interests: .writable)
        try test.registry.register(socket3, token: Self.id3, interests: .readable)

        try test.expectEvents([
            MioExpectEvent(Self.id1, .writable),
            MioExpectEvent(Self.id2, .writable),
        ])

        // (mio checks that `send_to` on a connected socket fails on the BSDs; Linux allows it.)

        Mio.checkedWrite(Self.data2) { try socket2.send($0, to: address3) }
        try test.expectEvents([MioExpectEvent(Self.id3, .readable)])

        Mio.expectReadFrom(Self.data2, source: address2, bufferSize: 20) { try socket3.peekFrom(into: &$0) }
        Mio.expectReadFrom(Self.data2, source: address2, bufferSize: 20) { try socket3.receiveFrom(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
        #expect(socket3.takeError() == nil)
    }

    @Test("udp_socket::udp_socket_raw_fd")
    func udpSocketRawFD() throws {
        let raw = try MioStd.udpBind(Mio.anyLocalAddress)
        let address: SocketAddress = try MioStd.localAddress(raw)
        let socket = try UDPSocket(adopting: raw)
        #expect(socket.fileDescriptor == raw)
        #expect(try socket.localAddress() == address)
        try socket.close()
        #expect(socket.fileDescriptor == -1)
    }

    @Test("udp_socket::udp_socket_register", arguments: TestBackends.all)
    func udpSocketRegister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket = try UDPSocket.bind(Mio.anyLocalAddress)
        try test.registry.register(socket, token: Self.id1, interests: .readable)
        try test.expectNoEvents()
        withExtendedLifetime(socket) {}
    }

    @Test("udp_socket::udp_socket_reregister", arguments: TestBackends.all)
    func udpSocketReregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket = try UDPSocket.bind(Mio.anyLocalAddress)
        let address = try socket.localAddress()

        let barrier = MioBarrier(2)
        let thread = sendPackets(address, 1, barrier)

        try test.registry.register(socket, token: Self.id1, interests: .writable)
        // Let the packet be sent.
        #expect(barrier.wait())
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])  // not readable

        try test.registry.reregister(socket, token: Self.id2, interests: .readable)
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        Mio.expectReadFrom(Self.data1, source: SocketAddress?.none, bufferSize: 20) { try socket.receiveFrom(into: &$0) }
        thread.join()
    }

    @Test("udp_socket::udp_socket_no_events_after_deregister", arguments: TestBackends.all)
    func udpSocketNoEventsAfterDeregister(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket = try UDPSocket.bind(Mio.anyLocalAddress)
        let address = try socket.localAddress()

        let barrier = MioBarrier(2)
        let thread = sendPackets(address, 1, barrier)

        try test.registry.register(socket, token: Self.id1, interests: .readable)
        // Let the packet be sent.
        #expect(barrier.wait())

        try test.registry.deregister(socket)
        try test.expectNoEvents()

        // The packet does arrive.
        var buffer = [UInt8](repeating: 0, count: 20)
        let (count, _) = try retrying(socket.fileDescriptor) { () throws(Errno) in try socket.receiveFrom(into: &buffer) }
        #expect(Array(buffer.prefix(count)) == Self.data1)
        thread.join()
    }

    /// mio's `send_packets`: sends `count` datagrams to `address` from a helper thread, each after
    /// passing `barrier`.
    private func sendPackets(_ address: SocketAddress, _ count: Int, _ barrier: MioBarrier) -> MioThread {
        MioThread {
            let socket = try UDPSocket.bind(Mio.anyLocalAddress)
            for _ in 0..<count {
                try barrier.arrive()
                let sent = try socket.send(Self.data1, to: address)
                guard sent == Self.data1.count else { throw MioPeerFailure("short send") }
            }
        }
    }

    /// mio's `send_recv_udp`: the sender sends "hello world" when writable; the listener checks
    /// what it receives.
    private func sendReceiveUDP(_ backend: Backend, _ tx: UDPSocket, _ rx: UDPSocket, connected: Bool) throws {
        let test = try MioPoll(backend, capacity: 1024)
        let message = Array("hello world".utf8)

        // The sockets are non-blocking.
        var probe = [UInt8](repeating: 0, count: 128)
        Mio.assertWouldBlock { try rx.receiveFrom(into: &probe) }

        try test.registry.register(tx, token: Self.sender, interests: .writable)
        try test.registry.register(rx, token: Self.listener, interests: .readable)

        var pending = message
        var received = [UInt8](repeating: 0, count: 1024)
        try test.eventLoop { event in
            var shutdown = false
            if event.isReadable, event.token == Self.listener {
                let count: Int
                if connected {
                    count = try rx.receive(into: &received)
                } else {
                    count = try rx.receiveFrom(into: &received).count
                }
                #expect(Array(received.prefix(count)) == message)
                shutdown = true
            }
            if event.isWritable, event.token == Self.sender, !pending.isEmpty {
                let sent: Int
                if connected {
                    sent = try tx.send(pending)
                } else {
                    sent = try tx.send(pending, to: try rx.localAddress())
                }
                pending.removeFirst(sent)
            }
            return shutdown
        }
    }

    /// mio's `connected_sockets`: a sender and a receiver connected to each other.
    private func connectedSockets() throws -> (UDPSocket, UDPSocket) {
        let tx = try UDPSocket.bind(Mio.anyLocalAddress)
        let rx = try UDPSocket.bind(Mio.anyLocalAddress)
        try tx.connect(to: try rx.localAddress())
        try rx.connect(to: try tx.localAddress())
        return (tx, rx)
    }

    @Test("udp_socket::udp_socket", arguments: TestBackends.all)
    func udpSocket(backend: Backend) throws {
        let tx = try UDPSocket.bind(Mio.anyLocalAddress)
        let rx = try UDPSocket.bind(Mio.anyLocalAddress)
        try sendReceiveUDP(backend, tx, rx, connected: false)
    }

    @Test("udp_socket::udp_socket_send_recv", arguments: TestBackends.all)
    func udpSocketSendReceive(backend: Backend) throws {
        let (tx, rx) = try connectedSockets()
        try sendReceiveUDP(backend, tx, rx, connected: true)
    }

    /// A connected socket drops datagrams from anyone but its peer.
    @Test("udp_socket::udp_socket_discard", arguments: TestBackends.all)
    func udpSocketDiscard(backend: Backend) throws {
        let tx = try UDPSocket.bind(Mio.anyLocalAddress)
        let rx = try UDPSocket.bind(Mio.anyLocalAddress)
        let outside = try UDPSocket.bind(Mio.anyLocalAddress)

        let txAddress = try tx.localAddress()
        let rxAddress = try rx.localAddress()

        try tx.connect(to: rxAddress)
        try outside.connect(to: rxAddress)
        try rx.connect(to: txAddress)

        let test = try MioPoll(backend, capacity: 1024)
        try test.registry.register(outside, token: Self.id1, interests: .writable)
        try test.expectEvents([MioExpectEvent(Self.id1, .writable)])

        Mio.checkedWrite(Array("hello world".utf8)) { try outside.send($0) }

        try test.registry.register(rx, token: Self.listener, interests: .readable)
        try test.registry.register(tx, token: Self.sender, interests: .writable)

        let events = try test.pollOnce(timeout: .seconds(5))
        #expect(!events.contains { $0.isReadable && $0.token == Self.listener }, "expected no packet but got one")
        withExtendedLifetime((tx, rx, outside)) {}
    }

    /// Joins two multicast groups, then checks ordinary delivery still works and the sender's
    /// address is reported.
    @Test("udp_socket::multicast", arguments: TestBackends.all)
    func multicast(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 1024)
        let tx = try UDPSocket.bind(Mio.anyLocalAddress)
        let rx = try UDPSocket.bind(Mio.anyLocalAddress)

        try rx.joinMulticastV4(group: try IPAddress("227.1.1.100"), interface: .anyV4)
        try rx.joinMulticastV4(group: try IPAddress("227.1.1.101"), interface: .anyV4)

        try test.registry.register(tx, token: Self.sender, interests: .writable)
        try test.registry.register(rx, token: Self.listener, interests: .readable)

        // mio's `UdpHandler` takes the local IP from a freshly bound socket.
        let localhost = try UDPSocket.bind(Mio.anyLocalAddress).localAddress().ip
        let message = Array("hello world".utf8)
        var pending = message
        var received = [UInt8](repeating: 0, count: 1024)
        try test.eventLoop { event in
            var shutdown = false
            if event.isReadable, event.token == Self.listener {
                let (count, address) = try rx.receiveFrom(into: &received)
                #expect(address.ip == localhost)
                #expect(Array(received.prefix(count)) == message)
                shutdown = true
            }
            if event.isWritable, event.token == Self.sender, !pending.isEmpty {
                let sent = try tx.send(pending, to: try rx.localAddress())
                pending.removeFirst(sent)
            }
            return shutdown
        }
    }

    @Test("udp_socket::et_behavior_recv", arguments: TestBackends.all)
    func etBehaviorReceive(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let address2 = try socket2.localAddress()

        try test.registry.register(socket1, token: Self.id1, interests: .writable)
        try test.registry.register(socket2, token: Self.id2, interests: Interest.readable.union(.writable))
        try test.expectEvents([
            MioExpectEvent(Self.id1, .writable),
            MioExpectEvent(Self.id2, .writable),
        ])

        try socket1.connect(to: address2)

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.checkedWrite(Self.data1) { try socket1.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.receive(into: &$0) }

        // Draining to would-block re-arms the edge.
        Mio.assertWouldBlock { try socket2.receive(into: &buffer) }
        Mio.checkedWrite(Self.data1) { try socket1.send($0) }
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        Mio.expectRead(Self.data1, bufferSize: 20) { try socket2.receive(into: &$0) }
    }

    @Test("udp_socket::et_behavior_recv_from", arguments: TestBackends.all)
    func etBehaviorReceiveFrom(backend: Backend) throws {
        let test = try MioPoll(backend)
        let socket1 = try UDPSocket.bind(Mio.anyLocalAddress)
        let socket2 = try UDPSocket.bind(Mio.anyLocalAddress)
        let address1 = try socket1.localAddress()
        let address2 = try socket2.localAddress()

        try test.registry.register(socket1, token: Self.id1, interests: Interest.readable.union(.writable))
        try test.registry.register(socket2, token: Self.id2, interests: Interest.readable.union(.writable))
        try test.expectEvents([
            MioExpectEvent(Self.id1, .writable),
            MioExpectEvent(Self.id2, .writable),
        ])

        Mio.checkedWrite(Self.data1) { try socket1.send($0, to: address2) }
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.expectReadFrom(Self.data1, source: address1, bufferSize: 20) { try socket2.receiveFrom(into: &$0) }

        // Draining to would-block re-arms the edge.
        Mio.assertWouldBlock { try socket2.receiveFrom(into: &buffer) }
        Mio.checkedWrite(Self.data1) { try socket1.send($0, to: address2) }
        try test.expectEvents([MioExpectEvent(Self.id2, .readable)])

        Mio.expectReadFrom(Self.data1, source: address1, bufferSize: 20) { try socket2.receiveFrom(into: &$0) }

        #expect(socket1.takeError() == nil)
        #expect(socket2.takeError() == nil)
    }
}
