import Glibc
import Testing
@testable import RingPoll

@Suite struct NetUnixStreamTests {
    @Test(arguments: TestBackends.all)
    func listenerRoundTripOnPath(backend: Backend) throws {
        let path = temporarySocketPath()
        defer { unlink(path) }
        try roundTrip(backend: backend, address: try UnixAddress(path: path))
    }

    @Test(arguments: TestBackends.all)
    func listenerRoundTripOnAbstractName(backend: Backend) throws {
        try roundTrip(backend: backend, address: try UnixAddress(abstract: temporaryAbstractName()))
    }

    private func roundTrip(backend: Backend, address: UnixAddress) throws {
        let poll = try Poll(backend: backend)
        let listener = try UnixListener.bind(address)
        #expect(try listener.localAddress() == address)
        try poll.registry.register(listener, token: Token(0), interests: .readable)
        let client = try UnixStream.connect(to: address)
        try poll.registry.register(client, token: Token(1), interests: .readable)
        try pollFor(Token(0), in: poll)
        let (server, peer) = try listener.accept()
        #expect(thrown { () throws(Errno) in try listener.accept() } == .wouldBlock)
        #expect(peer.isUnnamed)
        #expect(try server.localAddress() == address)
        #expect(try client.peerAddress() == address)
        #expect(try server.peerAddress().isUnnamed)
        #expect(try client.localAddress().isUnnamed)
        try poll.registry.register(server, token: Token(2), interests: .readable)

        #expect(try client.write(pattern(500)) == 500)
        try pollFor(Token(2), in: poll)
        var buffer = [UInt8](repeating: 0, count: 1000)
        #expect(try server.read(into: &buffer) == 500)
        #expect(Array(buffer[..<500]) == pattern(500))
        #expect(try server.write([1, 2]) == 2)
        try pollFor(Token(1), in: poll)
        #expect(try client.read(into: &buffer) == 2)

        try client.close()
        let closed = try pollUntil(poll) { $0.contains { $0.token == Token(2) && $0.isReadClosed } }
        #expect(closed.contains { $0.token == Token(2) && $0.isReadClosed })
        #expect(try server.read(into: &buffer) == 0)
    }

    @Test(arguments: TestBackends.all)
    func closingRegisteredStreamGivesPeerEOFWithin100Milliseconds(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let (one, two) = try UnixStream.pair()
        try poll.registry.register(one, token: Token(1), interests: [.readable, .writable])
        try pollFor(Token(1), in: poll)
        try one.close()
        #expect(waitFor(two.fileDescriptor, POLLIN, within: .milliseconds(100)))
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try two.read(into: &buffer) == 0)
    }

    @Test func pairPeekVectoredAndShutdown() throws {
        let (one, two) = try UnixStream.pair()
        #expect(try one.localAddress().isUnnamed && one.peerAddress().isUnnamed)
        let parts: [[UInt8]] = [[1], [2, 3], [], [4, 5, 6]]
        let written = try parts[0].withUnsafeBytes { a in
            try parts[1].withUnsafeBytes { b in
                try parts[2].withUnsafeBytes { c in
                    try parts[3].withUnsafeBytes { d in try one.write([a, b, c, d]) }
                }
            }
        }
        #expect(written == 6)
        var buffer = [UInt8](repeating: 0, count: 3)
        #expect(try retrying(two.fileDescriptor) { () throws(Errno) in try two.peek(into: &buffer) } == 3)
        #expect(buffer == [1, 2, 3])
        var head = [UInt8](repeating: 0, count: 2)
        var tail = [UInt8](repeating: 0, count: 10)
        let read = try head.withUnsafeMutableBytes { a in
            try tail.withUnsafeMutableBytes { b in try two.read(into: [a, b]) }
        }
        #expect(read == 6 && head == [1, 2] && tail[..<4] == [3, 4, 5, 6])

        try one.shutdown(.write)
        #expect(try two.read(into: &buffer) == 0)
        #expect(thrown { () throws(Errno) in try one.write([1]) } == .brokenPipe)
        #expect(try two.write([7]) == 1)
        #expect(try retrying(one.fileDescriptor) { () throws(Errno) in try one.read(into: &buffer) } == 1)
        #expect(one.takeError() == nil)
    }

    @Test func badAddressesGiveTheirErrors() throws {
        let missing = temporarySocketPath()
        #expect(thrown { () throws(Errno) in try UnixStream.connect(to: try UnixAddress(path: missing)) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in try UnixListener.bind(try UnixAddress(path: "/nonexistent-dir-\(getpid())/s")) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in try UnixStream.connect(to: try UnixAddress(abstract: temporaryAbstractName())) } == .connectionRefused)

        // A regular file is not a socket: nobody can be listening on it.
        let file = temporarySocketPath()
        defer { unlink(file) }
        let created = open(file, O_CREAT | O_WRONLY, 0o600)
        try #require(created >= 0)
        Glibc.close(created)
        #expect(thrown { () throws(Errno) in try UnixStream.connect(to: try UnixAddress(path: file)) } == .connectionRefused)
        #expect(thrown { () throws(Errno) in try UnixListener.bind(try UnixAddress(path: file)) } == .addressInUse)

        let name = try UnixAddress(abstract: temporaryAbstractName())
        let taken = try UnixListener.bind(name)
        #expect(thrown { () throws(Errno) in try UnixListener.bind(name) } == .addressInUse)
        #expect(taken.takeError() == nil)
    }

    @Test func adoptingSetsFlags() throws {
        var raw: [CInt] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &raw) == 0)
        let one = try UnixStream(adopting: raw[0])
        let two = try UnixStream(adopting: raw[1])
        for fd in [one.fileDescriptor, two.fileDescriptor] {
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0 && fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }
        var buffer = [UInt8](repeating: 0, count: 1)
        #expect(thrown { () throws(Errno) in try one.read(into: &buffer) } == .wouldBlock)
        let (a, b) = try UnixStream.pair()
        for fd in [a.fileDescriptor, b.fileDescriptor] {
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0 && fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }

        let listenerDescriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let listener = try UnixListener(adopting: listenerDescriptor)
        #expect(fcntl(listener.fileDescriptor, F_GETFL) & O_NONBLOCK != 0)
    }
}

@Suite struct NetUnixDatagramTests {
    @Test(arguments: TestBackends.all)
    func boundSocketsExchangeDatagrams(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let firstPath = temporarySocketPath("first")
        let secondPath = temporarySocketPath("second")
        defer { unlink(firstPath); unlink(secondPath) }
        let first = try UnixDatagram.bind(try UnixAddress(path: firstPath))
        let second = try UnixDatagram.bind(try UnixAddress(path: secondPath))
        try poll.registry.register(second, token: Token(2), interests: .readable)

        #expect(try first.send([1, 2, 3], to: try UnixAddress(path: secondPath)) == 3)
        #expect(try first.send([4], to: try UnixAddress(path: secondPath)) == 1)
        try pollFor(Token(2), in: poll)
        var buffer = [UInt8](repeating: 0, count: 8)
        let received = try second.receiveFrom(into: &buffer)
        #expect(received.count == 3 && buffer[..<3] == [1, 2, 3])
        #expect(received.address.path == firstPath)
        #expect(try second.receive(into: &buffer) == 1)  // boundaries are kept
        #expect(thrown { () throws(Errno) in try second.receive(into: &buffer) } == .wouldBlock)

        // An unbound sender is unnamed to the receiver.
        let anonymous = try UnixDatagram.unbound()
        #expect(try anonymous.send([9], to: try UnixAddress(path: secondPath)) == 1)
        let fromAnonymous = try retrying(second.fileDescriptor) { () throws(Errno) in try second.receiveFrom(into: &buffer) }
        #expect(fromAnonymous.count == 1 && fromAnonymous.address.isUnnamed)
    }

    @Test(arguments: TestBackends.all)
    func connectedAndPairedSockets(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let name = try UnixAddress(abstract: temporaryAbstractName())
        let server = try UnixDatagram.bind(name)
        let client = try UnixDatagram.unbound()
        try client.connect(to: name)
        #expect(try client.peerAddress() == name)
        try poll.registry.register(server, token: Token(1), interests: .readable)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { raw.deallocate() }
        raw.copyBytes(from: [1, 2, 3, 4])
        #expect(try client.send(UnsafeRawBufferPointer(raw)) == 4)
        try pollFor(Token(1), in: poll)
        let into = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 1)
        defer { into.deallocate() }
        let received = try server.receiveFrom(into: into)
        #expect(received.count == 4 && Array(into[..<4]) == [1, 2, 3, 4] && received.address.isUnnamed)

        let (one, two) = try UnixDatagram.pair()
        try poll.registry.register(two, token: Token(2), interests: .readable)
        #expect(try one.send([]) == 0)  // an empty datagram is still a datagram
        try pollFor(Token(2), in: poll)
        #expect(try two.receive(into: into) == 0)
        #expect(try one.localAddress().isUnnamed && one.peerAddress().isUnnamed)

        // Shutting down the reading side makes the peer's sends fail; the writing side, our own.
        try two.shutdown(.read)
        #expect(thrown { () throws(Errno) in try one.send([1]) } == .brokenPipe)
        try two.shutdown(.write)
        #expect(thrown { () throws(Errno) in try two.send([1]) } == .brokenPipe)
        try one.shutdown(.both)
    }

    @Test func badAddressesGiveTheirErrors() throws {
        let socket = try UnixDatagram.unbound()
        #expect(thrown { () throws(Errno) in try socket.send([1]) } == .socketNotConnected)
        #expect(thrown { () throws(Errno) in try socket.peerAddress() } == .socketNotConnected)
        let missing = try UnixAddress(path: temporarySocketPath())
        #expect(thrown { () throws(Errno) in try socket.send([1], to: missing) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in try socket.connect(to: missing) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in try UnixDatagram.bind(try UnixAddress(path: "/nonexistent-dir-\(getpid())/d")) } == .noSuchFileOrDirectory)
        let name = try UnixAddress(abstract: temporaryAbstractName())
        let taken = try UnixDatagram.bind(name)
        #expect(thrown { () throws(Errno) in try UnixDatagram.bind(name) } == .addressInUse)
        #expect(taken.takeError() == nil)
    }

    @Test func adoptingSetsFlags() throws {
        let raw = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        let adopted = try UnixDatagram(adopting: raw)
        #expect(fcntl(raw, F_GETFL) & O_NONBLOCK != 0 && fcntl(raw, F_GETFD) & FD_CLOEXEC != 0)
        var buffer = [UInt8](repeating: 0, count: 1)
        #expect(thrown { () throws(Errno) in try adopted.receive(into: &buffer) } == .wouldBlock)
    }
}
