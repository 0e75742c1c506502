import Glibc
import Testing
@testable import RingPoll

@Suite struct NetTCPTests {
    @Test(arguments: TestBackends.all)
    func connectAcceptEchoRoundTrip(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(try SocketAddress("127.0.0.1:0"))
        try poll.registry.register(listener, token: Token(0), interests: .readable)
        let client = try TCPStream.connect(to: try listener.localAddress())
        try poll.registry.register(client, token: Token(1), interests: [.readable, .writable])

        var seen = try pollFor(Token(0), in: poll)
        var accepted: [(TCPStream, SocketAddress)] = []
        while case .success(let pair) = outcome({ () throws(Errno) in try listener.accept() }) {
            accepted.append(pair)
        }
        #expect(thrown { () throws(Errno) in try listener.accept() } == .wouldBlock)
        try #require(accepted.count == 1)
        let (server, peer) = accepted[0]
        #expect(peer == (try client.localAddress()))
        #expect(try server.peerAddress() == (try client.localAddress()))
        #expect(try server.localAddress() == (try listener.localAddress()))
        try poll.registry.register(server, token: Token(2), interests: .readable)

        // Edge-triggered: the connect's writable event may have come with the listener's.
        if !seen.contains(where: { $0.token == Token(1) && $0.isWritable }) {
            seen += try pollUntil(poll) { $0.contains { $0.token == Token(1) && $0.isWritable } }
        }
        #expect(seen.contains { $0.token == Token(1) && $0.isWritable })
        #expect(client.takeError() == nil)
        #expect(try client.peerAddress() == (try listener.localAddress()))

        let message = pattern(1000)
        #expect(try client.write(message) == message.count)
        try pollFor(Token(2), in: poll)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received: [UInt8] = []
        while received.count < message.count {
            let count = try retrying(server.fileDescriptor) { () throws(Errno) in try server.read(into: &buffer) }
            try #require(count > 0)
            received += buffer[..<count]
        }
        #expect(received == message)
        #expect(buffer.count == 4096)
        #expect(thrown { () throws(Errno) in try server.read(into: &buffer) } == .wouldBlock)

        #expect(try server.write(received) == received.count)
        try pollUntil(poll) { $0.contains { $0.token == Token(1) && $0.isReadable } }
        var echoed: [UInt8] = []
        while echoed.count < message.count {
            let count = try retrying(client.fileDescriptor) { () throws(Errno) in try client.read(into: &buffer) }
            try #require(count > 0)
            echoed += buffer[..<count]
        }
        #expect(echoed == message)

        try client.close()
        let closed = try pollUntil(poll) { $0.contains { $0.token == Token(2) && $0.isReadClosed } }
        #expect(closed.contains { $0.token == Token(2) && $0.isReadClosed })
        #expect(try retrying(server.fileDescriptor) { () throws(Errno) in try server.read(into: &buffer) } == 0)
    }

    @Test(arguments: TestBackends.all)
    func ipv6RoundTrip(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = try ConnectedTCP(ipv6: true)
        #expect(try pair.client.peerAddress().ip == .loopbackV6)
        try poll.registry.register(pair.server, token: Token(5), interests: .readable)
        #expect(try pair.client.write([1, 2, 3]) == 3)
        try pollFor(Token(5), in: poll)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try pair.server.read(into: &buffer) == 3)
        #expect(buffer[..<3] == [1, 2, 3])
    }

    /// The contract's promise that io_uring does not keep a closed socket's file alive: the
    /// peer must see end of stream as promptly as with epoll.
    @Test(arguments: TestBackends.all)
    func closingRegisteredStreamGivesPeerEOFWithin100Milliseconds(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = try ConnectedTCP()
        try poll.registry.register(pair.server, token: Token(3), interests: [.readable, .writable])
        try pollFor(Token(3), in: poll)  // the kernel-side poll is armed and has fired

        try pair.server.close()
        #expect(pair.server.fileDescriptor == -1)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(waitFor(pair.client.fileDescriptor, POLLIN, within: .milliseconds(100)))
        #expect(clock.now - start < .milliseconds(100))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try pair.client.read(into: &buffer) == 0)
        #expect(try eventsWithin(.milliseconds(20), from: poll).allSatisfy { $0.token != Token(3) })
    }

    @Test(arguments: TestBackends.all)
    func droppingRegisteredStreamGivesPeerEOFWithin100Milliseconds(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = try TCPListener.bind(try SocketAddress("127.0.0.1:0"))
        let client = try TCPStream.connect(to: try listener.localAddress())
        var server: TCPStream? = try retrying(listener.fileDescriptor) { () throws(Errno) in try listener.accept().0 }
        try poll.registry.register(server!, token: Token(4), interests: [.readable, .writable])
        try pollFor(Token(4), in: poll)

        server = nil  // deinit deregisters and closes
        #expect(server == nil)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(waitFor(client.fileDescriptor, POLLIN, within: .milliseconds(100)))
        #expect(clock.now - start < .milliseconds(100))
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(try client.read(into: &buffer) == 0)
        #expect(try eventsWithin(.milliseconds(20), from: poll).allSatisfy { $0.token != Token(4) })
    }

    @Test(arguments: TestBackends.all)
    func registeredWithOnePollIsRefusedByAnother(backend: Backend) throws {
        let first = try Poll(backend: backend)
        let second = try Poll(backend: backend)
        let pair = try ConnectedTCP()
        try first.registry.register(pair.client, token: Token(1), interests: .readable)
        #expect(thrown { () throws(Errno) in
            try second.registry.register(pair.client, token: Token(1), interests: .readable)
        } == .fileExists)
        #expect(thrown { () throws(Errno) in
            try first.registry.register(pair.client, token: Token(2), interests: .readable)
        } == .fileExists)
        #expect(thrown { () throws(Errno) in try second.registry.deregister(pair.client) } == .noSuchFileOrDirectory)
        #expect(thrown { () throws(Errno) in
            try second.registry.reregister(pair.client, token: Token(1), interests: .writable)
        } == .noSuchFileOrDirectory)

        // Still served by the first poll, and free for the second once deregistered.
        #expect(try pair.server.write([9]) == 1)
        try pollFor(Token(1), in: first)
        try first.registry.deregister(pair.client)
        try second.registry.register(pair.client, token: Token(7), interests: .readable)
        #expect(try pair.server.write([9]) == 1)
        try pollFor(Token(7), in: second)
    }

    @Test(arguments: TestBackends.all)
    func refusedConnectIsReportedByTakeError(backend: Backend) throws {
        let address = try {
            let listener = try TCPListener.bind(try SocketAddress("127.0.0.1:0"))
            return try listener.localAddress()
        }()  // the listener is gone: nothing listens on that port now
        let poll = try Poll(backend: backend)
        let stream = try TCPStream.connect(to: address)
        try poll.registry.register(stream, token: Token(1), interests: .writable)
        let events = try pollFor(Token(1), in: poll)
        #expect(events.contains { $0.token == Token(1) && ($0.isError || $0.isWriteClosed) })
        #expect(stream.takeError() == .connectionRefused)
        #expect(stream.takeError() == nil)  // taking clears it
        #expect(thrown { () throws(Errno) in try stream.peerAddress() } == .socketNotConnected)
    }

    @Test func peekLeavesDataForRead() throws {
        let pair = try ConnectedTCP()
        #expect(try pair.client.write([1, 2, 3, 4]) == 4)
        waitFor(pair.server.fileDescriptor)
        var buffer = [UInt8](repeating: 0, count: 8)
        #expect(try pair.server.peek(into: &buffer) == 4)
        #expect(buffer[..<4] == [1, 2, 3, 4])
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 2, alignment: 1)
        defer { raw.deallocate() }
        #expect(try pair.server.peek(into: raw) == 2)
        #expect(Array(raw) == [1, 2])
        buffer = [UInt8](repeating: 0, count: 8)
        #expect(try pair.server.read(into: &buffer) == 4)
        #expect(buffer == [1, 2, 3, 4, 0, 0, 0, 0])
    }

    @Test func vectoredWriteAndRead() throws {
        let pair = try ConnectedTCP()
        let header: [UInt8] = [0xAA, 0xBB]
        let body = pattern(300)
        let written = try header.withUnsafeBytes { head in
            try body.withUnsafeBytes { tail in try pair.client.write([head, tail]) }
        }
        #expect(written == 302)
        var first = [UInt8](repeating: 0, count: 2)
        var second = [UInt8](repeating: 0, count: 300)
        var total = 0
        while total < 302 {
            total += try first.withUnsafeMutableBytes { a in
                try second.withUnsafeMutableBytes { b in
                    let start = total
                    let buffers = start < 2
                        ? [UnsafeMutableRawBufferPointer(rebasing: a[start...]), b]
                        : [UnsafeMutableRawBufferPointer(rebasing: b[(start - 2)...])]
                    return try retrying(pair.server.fileDescriptor) { () throws(Errno) in
                        try pair.server.read(into: buffers)
                    }
                }
            }
        }
        #expect(first == header)
        #expect(second == body)
    }

    @Test func rawBufferReadAndWrite() throws {
        let pair = try ConnectedTCP()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 5, alignment: 1)
        defer { out.deallocate() }
        out.copyBytes(from: [5, 4, 3, 2, 1])
        #expect(try pair.client.write(UnsafeRawBufferPointer(out)) == 5)
        let into = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { into.deallocate() }
        let count = try retrying(pair.server.fileDescriptor) { () throws(Errno) in try pair.server.read(into: into) }
        #expect(count == 5)
        #expect(Array(into[..<5]) == [5, 4, 3, 2, 1])
    }

    @Test func readIntoArrayFillsFromTheStartAndNeverResizes() throws {
        let pair = try ConnectedTCP()
        #expect(try pair.client.write([7, 8, 9]) == 3)
        var buffer = [UInt8](repeating: 0xFF, count: 10)
        #expect(try retrying(pair.server.fileDescriptor) { () throws(Errno) in try pair.server.read(into: &buffer) } == 3)
        #expect(buffer == [7, 8, 9] + [UInt8](repeating: 0xFF, count: 7))
        // A short array takes what fits; the rest stays for the next read.
        #expect(try pair.client.write(pattern(5)) == 5)
        var small = [UInt8](repeating: 0, count: 2)
        #expect(try retrying(pair.server.fileDescriptor) { () throws(Errno) in try pair.server.read(into: &small) } == 2)
        #expect(small.count == 2 && small == Array(pattern(5)[..<2]))
    }

    @Test func shutdownWriteGivesPeerEOFAndBrokenPipeWithoutSignal() throws {
        let pair = try ConnectedTCP()
        try pair.client.shutdown(.write)
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try retrying(pair.server.fileDescriptor) { () throws(Errno) in try pair.server.read(into: &buffer) } == 0)
        // Writing after shutdown would raise SIGPIPE without MSG_NOSIGNAL; the process lives on.
        #expect(thrown { () throws(Errno) in try pair.client.write([1]) } == .brokenPipe)
        let vectored = buffer.withUnsafeBytes { bytes in
            thrown { () throws(Errno) in try pair.client.write([bytes]) }
        }
        #expect(vectored == .brokenPipe)
        // The other direction still works.
        #expect(try pair.server.write([42]) == 1)
        #expect(try retrying(pair.client.fileDescriptor) { () throws(Errno) in try pair.client.read(into: &buffer) } == 1)
        try pair.client.shutdown(.both)
        try pair.server.shutdown(.read)
    }

    @Test func socketOptions() throws {
        let pair = try ConnectedTCP()
        #expect(try pair.client.noDelay() == false)
        try pair.client.setNoDelay(true)
        #expect(try pair.client.noDelay() == true)
        try pair.client.setNoDelay(false)
        #expect(try pair.client.noDelay() == false)

        try pair.client.setTTL(42)
        #expect(try pair.client.ttl() == 42)
        try pair.listener.setTTL(17)
        #expect(try pair.listener.ttl() == 17)
        #expect(thrown { () throws(Errno) in try pair.client.setTTL(256) } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try pair.client.setTTL(UInt32.max) } == .invalidArgument)

        let v6 = try ConnectedTCP(ipv6: true)
        try v6.client.setTTL(9)  // the IPv6 hop limit
        #expect(try v6.client.ttl() == 9)
        #expect(v6.listener.takeError() == nil)
    }

    @Test func descriptorsAreNonBlockingAndCloseOnExecFromBirth() throws {
        let pair = try ConnectedTCP()
        for fd in [pair.listener.fileDescriptor, pair.client.fileDescriptor, pair.server.fileDescriptor] {
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
            #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }
    }

    @Test func adoptingTakesOwnershipAndSetsFlags() throws {
        let raw = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(raw >= 0)
        #expect(fcntl(raw, F_GETFL) & O_NONBLOCK == 0)
        let listener = try TCPListener(adopting: raw)
        #expect(listener.fileDescriptor == raw)
        #expect(fcntl(raw, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(raw, F_GETFD) & FD_CLOEXEC != 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(raw, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(raw, 4) == 0)
        #expect(thrown { () throws(Errno) in try listener.accept() } == .wouldBlock)
        let identity = try FileIdentity.of(raw)
        try listener.close()
        // It owned the descriptor: the number is closed, or already reused by a test running
        // alongside, for another file.
        #expect((try? FileIdentity.of(raw)) != identity)

        let stream = try TCPStream(adopting: socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))
        #expect(fcntl(stream.fileDescriptor, F_GETFL) & O_NONBLOCK != 0)
    }

    @Test func streamsCanMoveToAnotherThread() async throws {
        let pair = try ConnectedTCP()
        let client = pair.client
        let written = try await Task.detached { () throws -> Int in try client.write([1, 2]) }.value
        #expect(written == 2)
        var buffer = [UInt8](repeating: 0, count: 2)
        #expect(try retrying(pair.server.fileDescriptor) { () throws(Errno) in try pair.server.read(into: &buffer) } == 2)
    }
}
