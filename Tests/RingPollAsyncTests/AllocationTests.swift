import CTestSupport
import Glibc
import RingPoll
import RingPollAsync
import Testing

/// Steady-state readiness resumption allocates nothing: the malloc counter (per thread) runs on
/// the executor's thread while a task there serves 10,000 ping-pong round trips, so it counts the
/// loop, the polls, the continuations and the task's reads and writes alike.
@Suite(.serialized, .enabled(if: rp_malloc_counter_conflict() == nil, "a sanitizer owns malloc in this build: the malloc counter is compiled out"))
struct AllocationTests {
    static let rounds = 10_000

    @Test(arguments: AsyncTestBackends.all)
    func echoRoundTripsAllocateNothing(backend: Backend) async throws {
        try #require(rp_malloc_counter_is_active() == 1, "the malloc counter is linked into the test binary")
        try await withExecutor(backend) { executor in
            let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let address = try listener.localAddress()
            let server = Task(executorPreference: executor) { () -> (UInt64, Bool) in
                let (stream, _) = try await listener.accept()
                // As a server reads: into a buffer larger than a message, so a read that does not
                // fill it tells that the socket is drained (no read that would only say would-block:
                // a thrown error is an allocation under Swift Testing, which records its backtrace).
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
                defer { buffer.deallocate() }
                try await Self.echo(stream, buffer, rounds: 1_000)  // warm-up: queues and tables reach their size
                let onThread = executor.isCurrent
                rp_malloc_counter_start()
                try await Self.echo(stream, buffer, rounds: Self.rounds)
                return (rp_malloc_counter_stop(), onThread)
            }
            let client = ClientThread { () -> Errno? in
                do throws(Errno) {
                    let poll = try Poll(backend: .epoll)
                    let stream = try TCPStream.connect(to: address)
                    try stream.setNoDelay(true)
                    try poll.registry.register(stream, token: Token(0), interests: [.readable])
                    var events = Events(capacity: 4)
                    let message = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 16)
                    let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 16)
                    defer { message.deallocate(); reply.deallocate() }
                    message.initializeMemory(as: UInt8.self, repeating: 0xAB)
                    for _ in 0..<(1_000 + Self.rounds) {
                        var sent = 0
                        while sent < 16 {
                            sent += try writeUnlessWouldBlock(stream, UnsafeRawBufferPointer(rebasing: message[sent...]))
                            if sent < 16 { try pollRetrying(poll, &events, timeout: .milliseconds(100)) }
                        }
                        var received = 0
                        while received < 16 {
                            if let count = try readUnlessWouldBlock(stream, UnsafeMutableRawBufferPointer(rebasing: reply[received...])) {
                                if count == 0 { return .connectionReset }
                                received += count
                            } else {
                                try pollRetrying(poll, &events, timeout: .milliseconds(100))
                            }
                        }
                    }
                    return nil
                } catch {
                    return error
                }
            }
            let clientError = try #require(await client.value(within: .seconds(120)), "the client finished")
            #expect(clientError == nil)
            let (allocations, onThread) = try await within(.seconds(30)) { try await server.value }
            #expect(onThread)
            #expect(allocations == 0, "allocations on the executor thread over \(Self.rounds) round trips")
        }
    }

    /// Echoes `rounds` 16-byte messages.
    static func echo(_ stream: AsyncTCPStream, _ buffer: UnsafeMutableRawBufferPointer, rounds: Int) async throws {
        var pending = 0
        var done = 0
        while done < rounds {
            let count = try await stream.read(into: buffer)
            if count == 0 { throw Errno.connectionReset }
            pending += count
            let whole = pending / 16 * 16
            if whole > 0 {
                try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[..<whole]))
                done += whole / 16
                pending -= whole
            }
        }
    }

    /// Sleeping (the timer heap and the poll timeout) allocates nothing in steady state either.
    @Test(arguments: AsyncTestBackends.all)
    func sleepsAllocateNothing(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let allocations = try await Task(executorPreference: executor) { () -> UInt64 in
                for _ in 0..<200 { try await executor.sleep(for: .microseconds(1)) }
                rp_malloc_counter_start()
                for _ in 0..<2_000 { try await executor.sleep(for: .microseconds(1)) }
                return rp_malloc_counter_stop()
            }.value
            #expect(allocations == 0)
        }
    }
}
