import Glibc
import Testing
@testable import RingPoll

/// Every constructor and call, given a closed socket, an empty buffer or a bad address, answers
/// with the documented `Errno`.
@Suite struct NetBadInputTests {
    private static let badFD = Errno.badFileDescriptor

    // MARK: Closed sockets

    @Test func closedTCPStreamRefusesEveryCall() throws {
        let pair = try ConnectedTCP()
        let stream = pair.client
        try stream.close()
        try stream.close()  // idempotent
        #expect(stream.fileDescriptor == -1)
        var bytes = [UInt8](repeating: 0, count: 4)
        try withBuffers { raw, rawOut in
            #expect(thrown { () throws(Errno) in try stream.read(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.write(rawOut) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.peek(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.read(into: [raw]) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.write([rawOut]) } == Self.badFD)
        }
        #expect(thrown { () throws(Errno) in try stream.read(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.write(bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.peek(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.peerAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.localAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.shutdown(.both) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.setNoDelay(true) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.noDelay() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.setTTL(1) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.ttl() } == Self.badFD)
        #expect(stream.takeError() == Self.badFD)
        // Empty buffers do not hide the closed socket.
        #expect(thrown { () throws(Errno) in try stream.read(into: UnsafeMutableRawBufferPointer(start: nil, count: 0)) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.write([UInt8]()) } == Self.badFD)
    }

    @Test func closedTCPListenerRefusesEveryCall() throws {
        let listener = try TCPListener.bind(try SocketAddress("127.0.0.1:0"))
        try listener.close()
        try listener.close()
        #expect(listener.fileDescriptor == -1)
        #expect(thrown { () throws(Errno) in try listener.accept() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try listener.localAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try listener.setTTL(1) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try listener.ttl() } == Self.badFD)
        #expect(listener.takeError() == Self.badFD)
    }

    @Test func closedUDPSocketRefusesEveryCall() throws {
        let socket = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        let target = try socket.localAddress()
        try socket.close()
        try socket.close()
        #expect(socket.fileDescriptor == -1)
        var bytes = [UInt8](repeating: 0, count: 4)
        let group = try IPAddress("224.0.0.123")
        try withBuffers { raw, rawOut in
            #expect(thrown { () throws(Errno) in try socket.send(rawOut, to: target) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try socket.receiveFrom(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try socket.peekFrom(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try socket.send(rawOut) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try socket.receive(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try socket.peek(into: raw) } == Self.badFD)
        }
        #expect(thrown { () throws(Errno) in try socket.send(bytes, to: target) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.receiveFrom(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.peekFrom(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.send(bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.receive(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.peek(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.connect(to: target) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.localAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.peerAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.setBroadcast(true) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.broadcast() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.setMulticastLoopV4(true) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.multicastLoopV4() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.setMulticastTTLV4(1) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.multicastTTLV4() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.setMulticastLoopV6(true) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.multicastLoopV6() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.joinMulticastV4(group: group, interface: .anyV4) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.leaveMulticastV4(group: group, interface: .anyV4) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.joinMulticastV6(group: try IPAddress("ff02::1"), interfaceIndex: 0) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.leaveMulticastV6(group: try IPAddress("ff02::1"), interfaceIndex: 0) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.setTTL(1) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.ttl() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try socket.onlyIPv6() } == Self.badFD)
        #expect(socket.takeError() == Self.badFD)
    }

    @Test func closedUnixSocketsRefuseEveryCall() throws {
        let (stream, _) = try UnixStream.pair()
        try stream.close()
        try stream.close()
        #expect(stream.fileDescriptor == -1)
        var bytes = [UInt8](repeating: 0, count: 4)
        try withBuffers { raw, rawOut in
            #expect(thrown { () throws(Errno) in try stream.read(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.write(rawOut) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.peek(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.read(into: [raw]) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try stream.write([rawOut]) } == Self.badFD)
        }
        #expect(thrown { () throws(Errno) in try stream.read(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.write(bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.peek(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.shutdown(.read) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.localAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try stream.peerAddress() } == Self.badFD)
        #expect(stream.takeError() == Self.badFD)

        let listener = try UnixListener.bind(try UnixAddress(abstract: temporaryAbstractName()))
        try listener.close()
        try listener.close()
        #expect(thrown { () throws(Errno) in try listener.accept() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try listener.localAddress() } == Self.badFD)
        #expect(listener.takeError() == Self.badFD)

        let (datagram, _) = try UnixDatagram.pair()
        let target = try UnixAddress(abstract: temporaryAbstractName())
        try datagram.close()
        try datagram.close()
        try withBuffers { raw, rawOut in
            #expect(thrown { () throws(Errno) in try datagram.send(rawOut, to: target) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try datagram.receiveFrom(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try datagram.send(rawOut) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try datagram.receive(into: raw) } == Self.badFD)
        }
        #expect(thrown { () throws(Errno) in try datagram.send(bytes, to: target) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.receiveFrom(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.send(bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.receive(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.connect(to: target) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.shutdown(.write) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.localAddress() } == Self.badFD)
        #expect(thrown { () throws(Errno) in try datagram.peerAddress() } == Self.badFD)
        #expect(datagram.takeError() == Self.badFD)
    }

    @Test func closedPipeEndsRefuseEveryCall() throws {
        let (sender, receiver) = try makePipe()
        try sender.close()
        try sender.close()
        try receiver.close()
        try receiver.close()
        #expect(sender.fileDescriptor == -1 && receiver.fileDescriptor == -1)
        var bytes = [UInt8](repeating: 0, count: 4)
        try withBuffers { raw, rawOut in
            #expect(thrown { () throws(Errno) in try sender.write(rawOut) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try sender.write([rawOut]) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try receiver.read(into: raw) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try receiver.read(into: [raw]) } == Self.badFD)
        }
        #expect(thrown { () throws(Errno) in try sender.write(bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try receiver.read(into: &bytes) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try sender.setNonBlocking(true) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try receiver.setNonBlocking(true) } == Self.badFD)
    }

    /// A closed socket cannot be registered, and closing a registered one frees its registration.
    @Test(arguments: TestBackends.all)
    func closedSocketsCannotBeRegistered(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let (one, two) = try UnixStream.pair()
        try poll.registry.register(one, token: Token(1), interests: .readable)
        try one.close()
        #expect(thrown { () throws(Errno) in try poll.registry.register(one, token: Token(1), interests: .readable) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try poll.registry.reregister(one, token: Token(1), interests: .readable) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in try poll.registry.deregister(one) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in try two.write([1]) } == .brokenPipe)
        #expect(try eventsWithin(.milliseconds(20), from: poll).allSatisfy { $0.token != Token(1) })

        let (sender, receiver) = try makePipe()
        try receiver.close()
        try sender.close()
        #expect(thrown { () throws(Errno) in try poll.registry.register(sender, token: Token(2), interests: .writable) } == Self.badFD)
        #expect(thrown { () throws(Errno) in try poll.registry.register(receiver, token: Token(3), interests: .readable) } == Self.badFD)
        let listener = try TCPListener.bind(try SocketAddress("127.0.0.1:0"))
        try listener.close()
        #expect(thrown { () throws(Errno) in try poll.registry.register(listener, token: Token(4), interests: .readable) } == Self.badFD)
        let udp = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        try udp.close()
        #expect(thrown { () throws(Errno) in try poll.registry.register(udp, token: Token(5), interests: .readable) } == Self.badFD)
    }

    /// I/O after close never reaches a descriptor number that was reused meanwhile.
    @Test func closedSocketNeverTouchesAReusedNumber() throws {
        let (one, _) = try UnixStream.pair()
        let number = one.fileDescriptor
        try one.close()
        var other: [CInt] = [-1, -1]
        try #require(pipe(&other) == 0)
        defer { Glibc.close(other[0]); Glibc.close(other[1]) }
        // The lowest free number is taken again, very likely `number`; writing must not reach it.
        #expect(thrown { () throws(Errno) in try one.write([1]) } == Self.badFD)
        if other[0] == number || other[1] == number {
            var available: CInt = 0
            _ = ioctl(other[0], UInt(FIONREAD), &available)
            #expect(available == 0)
        }
    }

    // MARK: Empty buffers

    @Test func emptyReadBuffersAreInvalidAndConsumeNothing() throws {
        let pair = try ConnectedTCP()
        #expect(try pair.client.write([1, 2]) == 2)
        waitFor(pair.server.fileDescriptor)
        var empty: [UInt8] = []
        let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        #expect(thrown { () throws(Errno) in try pair.server.read(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try pair.server.read(into: none) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try pair.server.peek(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try pair.server.peek(into: none) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try pair.server.read(into: [UnsafeMutableRawBufferPointer]()) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try pair.server.read(into: [none, none]) } == .invalidArgument)
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try pair.server.read(into: &buffer) == 2)  // nothing was consumed

        let (unixOne, unixTwo) = try UnixStream.pair()
        #expect(thrown { () throws(Errno) in try unixTwo.read(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try unixTwo.peek(into: none) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try unixTwo.read(into: [none]) } == .invalidArgument)
        #expect(try unixOne.write([1]) == 1)

        let (_, receiver) = try makePipe()
        #expect(thrown { () throws(Errno) in try receiver.read(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.read(into: none) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.read(into: [none]) } == .invalidArgument)
    }

    @Test func emptyDatagramBuffersAreInvalidAndLoseNothing() throws {
        let sender = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        let receiver = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        try sender.connect(to: try receiver.localAddress())
        try receiver.connect(to: try sender.localAddress())
        #expect(try sender.send([7, 7]) == 2)
        waitFor(receiver.fileDescriptor)
        var empty: [UInt8] = []
        let none = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        #expect(thrown { () throws(Errno) in try receiver.receiveFrom(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.receiveFrom(into: none) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.peekFrom(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.receive(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.receive(into: none) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try receiver.peek(into: none) } == .invalidArgument)
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try receiver.receive(into: &buffer) == 2)  // the datagram was not lost

        let (one, two) = try UnixDatagram.pair()
        #expect(try one.send([1]) == 1)
        #expect(thrown { () throws(Errno) in try two.receive(into: &empty) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try two.receiveFrom(into: none) } == .invalidArgument)
        #expect(try two.receive(into: &buffer) == 1)
    }

    @Test func emptyWritesReturnZero() throws {
        let pair = try ConnectedTCP()
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(try pair.client.write([UInt8]()) == 0)
        #expect(try pair.client.write(none) == 0)
        #expect(try pair.client.write([UnsafeRawBufferPointer]()) == 0)
        #expect(try pair.client.write([none]) == 0)
        let (unix, unixPeer) = try UnixStream.pair()
        #expect(try unix.write([UInt8]()) == 0)
        #expect(unixPeer.takeError() == nil)
        let (sender, receiver) = try makePipe()
        #expect(try sender.write([UInt8]()) == 0)
        #expect(try sender.write(none) == 0)
        #expect(try sender.write([UnsafeRawBufferPointer]()) == 0)
        #expect(receiver.fileDescriptor >= 0)
    }

    // MARK: Bad addresses

    @Test func badIPAddressesGiveTheirErrors() throws {
        let taken = try TCPListener.bind(try SocketAddress("127.0.0.1:0"))
        #expect(thrown { () throws(Errno) in try TCPListener.bind(try taken.localAddress()) } == .addressInUse)
        #expect(thrown { () throws(Errno) in try TCPListener.bind(try SocketAddress("192.0.2.1:0")) } == .addressNotAvailable)
        #expect(thrown { () throws(Errno) in try TCPListener.bind(try SocketAddress("[2001:db8::1]:0")) } == .addressNotAvailable)
        #expect(thrown { () throws(Errno) in try TCPStream.connect(to: try SocketAddress("224.0.0.1:80")) } == .networkUnreachable)
        #expect(thrown { () throws(Errno) in try TCPStream.connect(to: try SocketAddress("255.255.255.255:80")) } == .networkUnreachable)

        let udp = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        #expect(thrown { () throws(Errno) in try UDPSocket.bind(try udp.localAddress()) } == .addressInUse)
        #expect(thrown { () throws(Errno) in try UDPSocket.bind(try SocketAddress("192.0.2.1:0")) } == .addressNotAvailable)
        #expect(thrown { () throws(Errno) in try udp.send([1], to: try SocketAddress("127.0.0.1:0")) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try udp.send([1]) } == .addressRequired)
        #expect(thrown { () throws(Errno) in try udp.peerAddress() } == .socketNotConnected)
        // Without broadcast permission the kernel refuses a broadcast destination.
        #expect(thrown { () throws(Errno) in try udp.send([1], to: try SocketAddress("255.255.255.255:9")) } == .permissionDenied)
    }

    @Test func tooLongUnixPathsAreRefusedBeforeAnySocketIsMade() {
        let long = "/tmp/" + String(repeating: "x", count: 200)
        #expect(thrown { () throws(Errno) in try UnixListener.bind(try UnixAddress(path: long)) } == .fileNameTooLong)
        #expect(thrown { () throws(Errno) in try UnixStream.connect(to: try UnixAddress(path: long)) } == .fileNameTooLong)
        #expect(thrown { () throws(Errno) in try UnixDatagram.bind(try UnixAddress(path: long)) } == .fileNameTooLong)
        #expect(thrown { () throws(Errno) in try UnixDatagram.unbound().connect(to: try UnixAddress(path: long)) } == .fileNameTooLong)
        #expect(thrown { () throws(Errno) in try UnixDatagram.unbound().send([1], to: try UnixAddress(path: long)) } == .fileNameTooLong)
    }

    @Test func adoptingABadDescriptorThrows() {
        for fd in [CInt(-1), closedDescriptorNumber()] {
            #expect(thrown { () throws(Errno) in try TCPListener(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try TCPStream(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try UDPSocket(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try UnixStream(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try UnixListener(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try UnixDatagram(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try PipeSender(adopting: fd) } == Self.badFD)
            #expect(thrown { () throws(Errno) in try PipeReceiver(adopting: fd) } == Self.badFD)
        }
    }

    /// Runs `body` with a small mutable and read-only raw buffer.
    private func withBuffers(_ body: (UnsafeMutableRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        try body(raw, UnsafeRawBufferPointer(raw))
    }
}
