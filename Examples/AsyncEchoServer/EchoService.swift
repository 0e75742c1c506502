import RingPollAsync

/// The echo service: accepts on a listener and echoes each connection in a task of its own, on
/// the listener's executor. (The benchmarks compile this very file to measure the example.)
enum EchoService {
    /// Accepts until the listener is closed (or the executor shuts down); the connections'
    /// tasks are children of this one, so it returns when they have all ended.
    static func serve(_ listener: AsyncTCPListener) async {
        await withDiscardingTaskGroup { connections in
            do {
                for try await connection in listener {
                    try? connection.setNoDelay(true)
                    connections.addTask(executorPreference: listener.executor) {
                        await echo(connection)
                    }
                }
            } catch {
                // Cancelled (shutdown) or the listener failed: stop accepting.
            }
        }
    }

    /// Writes back everything it reads. The whole of a read is written before the next read, so
    /// a client that does not read its echoes stops the server from reading more: the kernel's
    /// socket buffers are the only buffers.
    static func echo(_ connection: AsyncTCPStream) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer {
            buffer.deallocate()
            try? connection.close()
        }
        do {
            while true {
                let count = try await connection.read(into: buffer)
                if count == 0 { return }  // the client closed its side
                try await connection.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
        } catch {
            // Reset, broken pipe, or cancelled by shutdown: the connection is over.
        }
    }
}
