import Glibc
import RingPoll
import RingPollAsync
import Testing

/// A client that sends and never reads cannot make the echo service buffer without bound: the
/// service writes each read completely before reading again, so once the kernel's buffers are
/// full it waits, stops reading, and the client's own writes stop.
@Suite struct BackpressureTests {
    @Test(arguments: AsyncTestBackends.all)
    func aClientThatNeverReadsIsStoppedByTheKernelBuffers(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (listener, server) = try startEchoServer(on: executor)
            let address = try listener.localAddress()
            let limit = 256 << 20  // an unbounded server would let the client write all of this
            let client = ClientThread { () -> Result<(accepted: Int, afterPause: Int), Errno> in
                do throws(Errno) {
                    let poll = try Poll(backend: .epoll)
                    let stream = try TCPStream.connect(to: address)
                    try poll.registry.register(stream, token: Token(0), interests: .writable)
                    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
                    defer { chunk.deallocate() }
                    chunk.initializeMemory(as: UInt8.self, repeating: 0x5A)
                    var events = Events(capacity: 4)
                    var total = 0
                    /// Writes until the socket takes nothing for `quiet`.
                    func fill(quiet: Duration) throws(Errno) {
                        while total < limit {
                            let written = try writeUnlessWouldBlock(stream, UnsafeRawBufferPointer(chunk))
                            total += written
                            if written == 0 {
                                try pollRetrying(poll, &events, timeout: quiet)
                                if events.isEmpty { return }  // no room came back: the server stopped reading
                            }
                        }
                    }
                    try fill(quiet: .milliseconds(500))
                    let accepted = total
                    try fill(quiet: .milliseconds(500))  // and it stays stopped
                    return .success((accepted, total - accepted))
                } catch {
                    return .failure(error)
                }
            }
            let outcome = try #require(await client.value(within: .seconds(60)))
            let (accepted, afterPause) = try outcome.get()
            print("BackpressureTests (\(backend)): the client could write \(accepted) bytes, then \(afterPause)")
            // Only the kernel's buffers hold the bytes (both sides' send and receive buffers, which
            // TCP autotuning may still grow a little after the first stop): a server that kept
            // reading into memory of its own would have taken all 256 MiB.
            #expect(accepted > 0)
            #expect(accepted + afterPause < 48 << 20, "bounded by the socket buffers of both sides")
            try listener.close()
            await executor.shutdownGracefully()  // ends the connection task waiting in its write
            _ = try await within(.seconds(30), "the server ending") { await server.value }
        }
    }
}
