import Glibc
import RingPoll
import RingPollAsync
import Testing

/// Bad input gives a clear `Errno`, never a crash or a hang.
@Suite struct BadInputTests {
    static func errno(_ body: () async throws -> Void) async -> Errno? {
        await errorOf(body) as? Errno
    }

    @Test(arguments: AsyncTestBackends.all)
    func closedStreams(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (stream, peer) = try AsyncUnixStream.pair(on: executor)
            try stream.close()
            #expect(await Self.errno { _ = try await readSome(stream) } == .badFileDescriptor, "read after close")
            #expect(await Self.errno { try await stream.write([1]) } == .badFileDescriptor, "write after close")
            #expect(await Self.errno { try await stream.write([]) } == .badFileDescriptor, "empty write after close")
            #expect(throws: Errno.badFileDescriptor, "double close") { try stream.close() }
            #expect(throws: Errno.badFileDescriptor) { try stream.shutdown(.write) }
            // The peer sees end of stream, and writing to a closed peer is a broken pipe.
            #expect(try await within(.seconds(30)) { try await readSome(peer) } == [])
            let broken = await Self.errno {
                for _ in 0..<100 { try await peer.write([UInt8](repeating: 0, count: 4096)) }
            }
            #expect(broken == .brokenPipe || broken == .connectionReset, "\(String(describing: broken))")
        }
    }

    /// A task waiting in a read when the stream is closed (by another task) resumes with
    /// `Errno.badFileDescriptor`.
    @Test(arguments: AsyncTestBackends.all)
    func closeWhileAnotherTaskWaits(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (stream, peer) = try AsyncUnixStream.pair(on: executor)
            let reader = Task(executorPreference: executor) { await errorOf { _ = try await readSome(stream) } }
            let offThread = Task { await errorOf { _ = try await readSome(stream) } }  // queued behind it
            try await Task.sleep(for: .milliseconds(50))
            try stream.close()  // from a thread that is not the executor's
            let first = try await within(.seconds(30)) { await reader.value }
            let second = try await within(.seconds(30)) { await offThread.value }
            #expect(first as? Errno == .badFileDescriptor)
            #expect(second as? Errno == .badFileDescriptor)
            try peer.close()
        }
    }

    static func readIntoEmpty(_ stream: AsyncUnixStream) async throws {
        var empty: [UInt8] = []
        _ = try await stream.read(into: &empty)
    }

    static func receiveIntoEmpty(_ socket: AsyncUDPSocket) async throws {
        var empty: [UInt8] = []
        _ = try await socket.receiveFrom(into: &empty)
    }

    static func count(_ listener: AsyncTCPListener) async throws -> Int {
        var count = 0
        for try await _ in listener { count += 1 }
        return count
    }

    @Test(arguments: AsyncTestBackends.all)
    func emptyBuffers(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (stream, peer) = try AsyncUnixStream.pair(on: executor)
            #expect(await Self.errno { try await Self.readIntoEmpty(stream) } == .invalidArgument)
            try stream.close()
            try peer.close()
            let udp = try AsyncUDPSocket.bind(SocketAddress("127.0.0.1:0"), on: executor)
            #expect(await Self.errno { try await Self.receiveIntoEmpty(udp) } == .invalidArgument)
            #expect(await Self.errno { try await udp.send([1]) } == .addressRequired, "not connected")
            try udp.close()
            #expect(await Self.errno { try await udp.send([1], to: SocketAddress("127.0.0.1:9")) } == .badFileDescriptor)
            #expect(throws: Errno.badFileDescriptor) { try udp.close() }
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func refusedConnect(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let closedPort = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let address = try closedPort.localAddress()
            try closedPort.close()
            let refused = await Self.errno { _ = try await AsyncTCPStream.connect(to: address, on: executor) }
            #expect(refused == .connectionRefused)
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func takenAddressAndClosedListener(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let address = try listener.localAddress()
            #expect(throws: Errno.addressInUse) { _ = try AsyncTCPListener.bind(address, on: executor) }
            try listener.close()
            #expect(await Self.errno { _ = try await listener.accept() } == .badFileDescriptor)
            #expect(throws: Errno.badFileDescriptor) { try listener.close() }
            #expect(try await Self.count(listener) == 0, "iterating a closed listener just ends")
        }
    }

    /// Closing a listener ends an iteration that waits in it.
    @Test(arguments: AsyncTestBackends.all)
    func closingAListenerEndsItsIteration(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let loop = Task(executorPreference: executor) { () -> Int in
                var count = 0
                do { for try await _ in listener { count += 1 } } catch { return -1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(50))
            try listener.close()
            #expect(try await within(.seconds(30)) { await loop.value } == 0)
        }
    }
}
