import RingPoll

/// One client: echoes everything it reads. Bytes the socket refuses are kept and sent when it
/// becomes writable again; meanwhile nothing more is read, so a client that does not read its
/// echoes cannot make the server buffer without bound.
final class Connection {
    let stream: TCPStream
    private var unsent: [UInt8] = []

    init(_ stream: TCPStream) {
        self.stream = stream
    }

    /// Runs on every event: sends what is pending, then reads and echoes until the socket would
    /// block. Returns false once the client is gone.
    func serve(using buffer: inout [UInt8]) -> Bool {
        do throws(Errno) {
            try flush()
            while unsent.isEmpty {
                let count = try stream.read(into: &buffer)
                if count == 0 { return false }  // the client closed its side
                unsent.append(contentsOf: buffer[..<count])
                try flush()
            }
            return true
        } catch {
            return error == .wouldBlock  // would-block: wait for the next event; else: gone
        }
    }

    private func flush() throws(Errno) {
        while !unsent.isEmpty {
            let written = try stream.write(unsent)
            unsent.removeFirst(written)
        }
    }
}
