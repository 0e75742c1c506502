import RingPoll
import Synchronization

/// The RingPoll byte-stream sockets the async streams wrap.
protocol ByteStreamSocket: Source, Sendable, AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    func read(into bytes: inout [UInt8]) throws(Errno) -> Int
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int
    func shutdown(_ how: Shutdown) throws(Errno)
    func close() throws(Errno)
}

extension TCPStream: ByteStreamSocket {}
extension UnixStream: ByteStreamSocket {}

/// Reading and writing of an async byte stream, shared by TCP and Unix streams.
final class StreamIO<Socket: ByteStreamSocket>: Sendable {
    let socket: Socket
    let registration: Registration
    private let closed = Atomic<Bool>(false)

    init(_ socket: Socket, executor: PollExecutor) {
        self.socket = socket
        registration = Registration(socket, interests: [.readable, .writable], executor: executor)
    }

    var executor: PollExecutor { registration.executor }

    // MARK: On the executor thread

    nonisolated(nonsending)
    func readHere(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        guard buffer.count > 0 else { throw Errno.invalidArgument }
        return try await registration.perform(.read) { () throws(Errno) -> Attempt<Int> in
            let count = try socket.read(into: buffer)
            return count > 0 && count < buffer.count ? .doneDrained(count) : .done(count)
        }
    }

    nonisolated(nonsending)
    func readHere(into bytes: inout [UInt8]) async throws -> Int {
        guard !bytes.isEmpty else { throw Errno.invalidArgument }
        let capacity = bytes.count
        return try await registration.perform(.read) { () throws(Errno) -> Attempt<Int> in
            let count = try socket.read(into: &bytes)
            return count > 0 && count < capacity ? .doneDrained(count) : .done(count)
        }
    }

    nonisolated(nonsending)
    func writeHere(_ buffer: UnsafeRawBufferPointer) async throws {
        try await writeAllHere(count: buffer.count) { offset throws(Errno) in
            try socket.write(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
        }
    }

    nonisolated(nonsending)
    func writeHere(_ bytes: [UInt8]) async throws {
        try await writeAllHere(count: bytes.count) { offset throws(Errno) in
            try withBytes(of: bytes) { buffer throws(Errno) in
                try socket.write(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
            }
        }
    }

    /// Writes `count` bytes through `writeFrom` (which writes from an offset and returns how
    /// many bytes the socket took), waiting for writable edges until all are written.
    nonisolated(nonsending)
    private func writeAllHere(count: Int, _ writeFrom: (Int) throws(Errno) -> Int) async throws {
        guard count > 0 else {
            guard !isClosed else { throw Errno.badFileDescriptor }
            return
        }
        var offset = 0
        try await registration.perform(.write) { () throws(Errno) -> Attempt<Void> in
            repeat {
                offset += try writeFrom(offset)
                // A short write filled the send buffer: the next writable edge says when more fits.
                if offset < count { return .again }
            } while offset < count
            return .done(())
        }
    }

    // MARK: From anywhere

    nonisolated(nonsending)
    func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        if executor.isCurrent, executor.runsHere(#isolation) {
            return try await readHere(into: buffer)
        }
        return try await executor.perform(ReadOperation(io: self, buffer: buffer))
    }

    nonisolated(nonsending)
    func read(into bytes: inout [UInt8]) async throws -> Int {
        if executor.isCurrent, executor.runsHere(#isolation) {
            return try await readHere(into: &bytes)
        }
        let box = ArrayBox(bytes)
        bytes = []
        defer { bytes = box.bytes }
        return try await executor.perform(ReadArrayOperation(io: self, box: box))
    }

    nonisolated(nonsending)
    func write(_ buffer: UnsafeRawBufferPointer) async throws {
        if executor.isCurrent, executor.runsHere(#isolation) {
            return try await writeHere(buffer)
        }
        try await executor.perform(WriteOperation(io: self, buffer: buffer))
    }

    nonisolated(nonsending)
    func write(_ bytes: [UInt8]) async throws {
        if executor.isCurrent, executor.runsHere(#isolation) {
            return try await writeHere(bytes)
        }
        try await executor.perform(WriteArrayOperation(io: self, bytes: bytes))
    }

    func shutdown(_ how: Shutdown) throws(Errno) {
        guard !closed.load(ordering: .acquiring) else { throw .badFileDescriptor }
        try socket.shutdown(how)
    }

    /// Closes the socket; the tasks waiting on it resume with `Errno.badFileDescriptor`. A second
    /// close throws `Errno.badFileDescriptor`.
    func close() throws(Errno) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { throw .badFileDescriptor }
        defer { registration.release() }
        try socket.close()
    }

    var isClosed: Bool { closed.load(ordering: .acquiring) }

    private struct ReadOperation: ExecutorOperation {
        let io: StreamIO
        let buffer: UnsafeMutableRawBufferPointer
        nonisolated(nonsending) func run() async throws -> Int { try await io.readHere(into: buffer) }
    }

    private struct ReadArrayOperation: ExecutorOperation {
        let io: StreamIO
        let box: ArrayBox
        nonisolated(nonsending) func run() async throws -> Int { try await io.readHere(into: &box.bytes) }
    }

    private struct WriteArrayOperation: ExecutorOperation {
        let io: StreamIO
        let bytes: [UInt8]
        nonisolated(nonsending) func run() async throws { try await io.writeHere(bytes) }
    }

    private struct WriteOperation: ExecutorOperation {
        let io: StreamIO
        let buffer: UnsafeRawBufferPointer
        nonisolated(nonsending) func run() async throws { try await io.writeHere(buffer) }
    }
}

/// An array moved to the executor thread for the length of one operation of a caller elsewhere.
final class ArrayBox {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

/// Runs `body` on the array's storage (no copy); `Array.withUnsafeBytes` only rethrows untyped
/// errors, so the typed error is carried out in a `Result`.
@inline(__always)
func withBytes<Value>(of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Errno) -> Value) throws(Errno) -> Value {
    let result: Result<Value, Errno> = array.withUnsafeBytes { bytes in
        do throws(Errno) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try result.get()
}
