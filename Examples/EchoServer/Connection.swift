import RingPoll

/// One client: echoes what it reads. The server's buffer holds the bytes between the read and
/// the write, so an echo costs no copy beyond the kernel's. Bytes the socket refuses are kept
/// here and sent when it becomes writable again; meanwhile nothing more is read, so a client
/// that does not read its echoes cannot make the server buffer more than one read's worth.
struct Connection {
    let stream: TCPStream
    /// Echo bytes the socket has not taken yet, from `unsentStart`. Empty unless the client is
    /// slow to read; its storage is kept for the next time.
    private var unsent: [UInt8] = []
    private var unsentStart = 0

    init(_ stream: TCPStream) {
        self.stream = stream
    }

    /// Runs on every event: sends what is pending, then reads and echoes until the socket is
    /// drained. Returns false once the client is gone.
    mutating func serve(using buffer: UnsafeMutableRawBufferPointer) -> Bool {
        do throws(Errno) {
            guard try flushUnsent() else { return true }  // still backed up: wait for writable
            while true {
                let count = try stream.read(into: buffer)
                if count == 0 { return false }  // the client closed its side
                let echo = UnsafeRawBufferPointer(rebasing: buffer[..<count])
                let written = try writeSome(echo)
                if written < count {
                    unsent.append(contentsOf: echo[written...])
                    return true
                }
                // A read that did not fill the buffer drained the socket; data arriving later
                // raises a new edge, so the read that would only say would-block is skipped.
                if count < buffer.count { return true }
            }
        } catch {
            return error == .wouldBlock  // would-block: wait for the next event; else: gone
        }
    }

    /// Sends pending echo bytes; true when none are left.
    private mutating func flushUnsent() throws(Errno) -> Bool {
        while unsentStart < unsent.count {
            let written = try unsent.span.extracting(unsentStart...).withUnsafeBytes { (bytes) throws(Errno) -> Int in
                try writeSome(bytes)
            }
            if written == 0 { return false }
            unsentStart += written
        }
        unsent.removeAll(keepingCapacity: true)
        unsentStart = 0
        return true
    }

    /// What the socket takes now: a full send buffer takes nothing.
    private func writeSome(_ bytes: UnsafeRawBufferPointer) throws(Errno) -> Int {
        do throws(Errno) {
            return try stream.write(bytes)
        } catch {
            guard error == .wouldBlock else { throw error }
            return 0
        }
    }
}
