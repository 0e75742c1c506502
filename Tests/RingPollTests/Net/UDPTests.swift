import Glibc
import Testing
@testable import RingPoll

@Suite struct NetUDPTests {
    @Test(arguments: TestBackends.all)
    func unconnectedSendAndReceive(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let sender = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        let receiver = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        try poll.registry.register(sender, token: Token(1), interests: .writable)
        try poll.registry.register(receiver, token: Token(2), interests: .readable)
        try pollFor(Token(1), in: poll)

        let target = try receiver.localAddress()
        #expect(try sender.send([1, 2, 3], to: target) == 3)
        #expect(try sender.send(pattern(100), to: target) == 100)
        try pollFor(Token(2), in: poll)
        var buffer = [UInt8](repeating: 0, count: 64)
        let first = try retrying(receiver.fileDescriptor) { () throws(Errno) in try receiver.receiveFrom(into: &buffer) }
        #expect(first.count == 3 && buffer[..<3] == [1, 2, 3])
        #expect(first.address == (try sender.localAddress()))
        // A datagram longer than the buffer is cut to it; the rest of it is gone.
        let second = try retrying(receiver.fileDescriptor) { () throws(Errno) in try receiver.receiveFrom(into: &buffer) }
        #expect(second.count == 64 && Array(buffer) == Array(pattern(100)[..<64]))
        #expect(thrown { () throws(Errno) in try receiver.receiveFrom(into: &buffer) } == .wouldBlock)
    }

    @Test(arguments: TestBackends.all)
    func connectedSendReceiveAndPeek(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let one = try UDPSocket.bind(try SocketAddress("[::1]:0"))
        let two = try UDPSocket.bind(try SocketAddress("[::1]:0"))
        try one.connect(to: try two.localAddress())
        try two.connect(to: try one.localAddress())
        #expect(try one.peerAddress() == (try two.localAddress()))
        try poll.registry.register(two, token: Token(2), interests: .readable)

        #expect(try one.send([4, 5, 6]) == 3)
        try pollFor(Token(2), in: poll)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try two.peek(into: &buffer) == 3)
        let peeked = try two.peekFrom(into: &buffer)
        #expect(try peeked.count == 3 && peeked.address == (try one.localAddress()))
        #expect(try two.receive(into: &buffer) == 3)
        #expect(buffer[..<3] == [4, 5, 6])
        #expect(thrown { () throws(Errno) in try two.receive(into: &buffer) } == .wouldBlock)

        // Raw buffers.
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { raw.deallocate() }
        raw.copyBytes(from: [9, 8, 7, 6])
        #expect(try two.send(UnsafeRawBufferPointer(raw)) == 4)
        #expect(try two.send(UnsafeRawBufferPointer(raw), to: try one.localAddress()) == 4)
        let into = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { into.deallocate() }
        #expect(try retrying(one.fileDescriptor) { () throws(Errno) in try one.peekFrom(into: into) }.count == 4)
        #expect(try one.peek(into: into) == 4)
        #expect(try one.receive(into: into) == 4)
        let from = try retrying(one.fileDescriptor) { () throws(Errno) in try one.receiveFrom(into: into) }
        #expect(try from.count == 4 && from.address == (try two.localAddress()) && Array(into) == [9, 8, 7, 6])
    }

    @Test(arguments: TestBackends.all)
    func emptyDatagramIsSentAndReceived(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let sender = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        let receiver = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        try poll.registry.register(receiver, token: Token(2), interests: .readable)
        #expect(try sender.send([], to: try receiver.localAddress()) == 0)
        try pollFor(Token(2), in: poll)
        var buffer = [UInt8](repeating: 0, count: 4)
        let received = try receiver.receiveFrom(into: &buffer)
        #expect(try received.count == 0 && received.address == (try sender.localAddress()))
    }

    @Test func refusedConnectedSendIsReported() throws {
        let closedPort = try UDPSocket.bind(try SocketAddress("127.0.0.1:0")).localAddress()  // socket gone
        let socket = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        try socket.connect(to: closedPort)
        #expect(try socket.send([1]) == 1)
        #expect(waitFor(socket.fileDescriptor, POLLERR))  // the ICMP port-unreachable came back
        #expect(socket.takeError() == .connectionRefused)
        #expect(socket.takeError() == nil)
    }

    @Test func options() throws {
        let socket = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        #expect(try socket.broadcast() == false)
        try socket.setBroadcast(true)
        #expect(try socket.broadcast() == true)
        #expect(try socket.multicastLoopV4() == true)
        try socket.setMulticastLoopV4(false)
        #expect(try socket.multicastLoopV4() == false)
        #expect(try socket.multicastTTLV4() == 1)
        try socket.setMulticastTTLV4(8)
        #expect(try socket.multicastTTLV4() == 8)
        try socket.setTTL(33)
        #expect(try socket.ttl() == 33)
        #expect(thrown { () throws(Errno) in try socket.onlyIPv6() }?.rawValue == EOPNOTSUPP)
        #expect(thrown { () throws(Errno) in try socket.setMulticastTTLV4(256) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try socket.setMulticastTTLV4(.max) } == .invalidArgument)

        // Linux makes a socket bound to a specific IPv6 address IPv6-only; `::` stays dual-stack.
        #expect(try UDPSocket.bind(try SocketAddress("[::]:0")).onlyIPv6() == false)
        let v6 = try UDPSocket.bind(try SocketAddress("[::1]:0"))
        #expect(try v6.onlyIPv6() == true)
        #expect(try v6.multicastLoopV6() == true)
        try v6.setMulticastLoopV6(false)
        #expect(try v6.multicastLoopV6() == false)
        try v6.setTTL(5)
        #expect(try v6.ttl() == 5)
        #expect(thrown { () throws(Errno) in try socket.setMulticastLoopV6(true) } == .protocolNotAvailable)
    }

    @Test func multicastMembership() throws {
        let socket = try UDPSocket.bind(try SocketAddress("0.0.0.0:0"))
        let group = try IPAddress("224.0.0.123")
        try socket.joinMulticastV4(group: group, interface: .loopbackV4)
        try socket.leaveMulticastV4(group: group, interface: .loopbackV4)
        #expect(thrown { () throws(Errno) in try socket.leaveMulticastV4(group: group, interface: .loopbackV4) } == .addressNotAvailable)
        // Families are checked before the kernel sees the request.
        #expect(thrown { () throws(Errno) in try socket.joinMulticastV4(group: try IPAddress("ff02::1"), interface: .anyV4) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try socket.joinMulticastV4(group: group, interface: .anyV6) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try socket.joinMulticastV4(group: .loopbackV4, interface: .anyV4) } == .invalidArgument)

        let v6 = try UDPSocket.bind(try SocketAddress("[::]:0"))
        let group6 = try IPAddress("ff02::123")
        let loopback = if_nametoindex("lo")
        try v6.joinMulticastV6(group: group6, interfaceIndex: loopback)
        try v6.leaveMulticastV6(group: group6, interfaceIndex: loopback)
        #expect(thrown { () throws(Errno) in try v6.joinMulticastV6(group: group, interfaceIndex: 0) } == .invalidArgument)
    }

    @Test func adoptingSetsFlags() throws {
        let raw = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(raw >= 0)
        let adopted = try UDPSocket(adopting: raw)
        #expect(fcntl(raw, F_GETFL) & O_NONBLOCK != 0 && fcntl(raw, F_GETFD) & FD_CLOEXEC != 0)
        var buffer = [UInt8](repeating: 0, count: 1)
        #expect(thrown { () throws(Errno) in try adopted.receive(into: &buffer) } == .wouldBlock)
        let bound = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        #expect(fcntl(bound.fileDescriptor, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(bound.fileDescriptor, F_GETFD) & FD_CLOEXEC != 0)
    }
}
