import Glibc
import Testing
@testable import RingPoll

/// The span forms of byte I/O (`ByteReader`, `ByteWriter`) behave as the raw-buffer forms do,
/// on every stream and pipe type.
@Suite struct SpanIOTests {
    @Test func tcpWritesASpanAndReadsIntoMutableSpans() throws {
        let pair = try ConnectedTCP()
        try roundTrip(from: pair.client, to: pair.server, waitingOn: pair.server.fileDescriptor)
    }

    @Test func unixStreamAndPipeToo() throws {
        let (first, second) = try UnixStream.pair()
        try roundTrip(from: first, to: second, waitingOn: second.fileDescriptor)
        let (sender, receiver) = try makePipe()
        try roundTrip(from: sender, to: receiver, waitingOn: receiver.fileDescriptor)
    }

    @Test func emptyReadSpanIsRefusedAndEmptyWriteSpanWritesNothing() throws {
        let (first, second) = try UnixStream.pair()
        let nothing: [UInt8] = []
        #expect(try first.write(nothing.span) == 0)
        var empty: [UInt8] = []
        var span = empty.mutableSpan
        #expect(throws: Errno.invalidArgument) { try second.read(into: &span) }
    }

    @Test func closedStreamsRefuseSpansAsClosed() throws {
        let (first, second) = try UnixStream.pair()
        try first.close()
        try second.close()
        let bytes: [UInt8] = [1]
        #expect(throws: Errno.badFileDescriptor) { try first.write(bytes.span) }
        var buffer: [UInt8] = [0]
        var span = buffer.mutableSpan
        #expect(throws: Errno.badFileDescriptor) { try second.read(into: &span) }
    }

    /// Writes 0...9 as a span from index 3 on, reads it back through a typed and a raw span.
    private func roundTrip(from writer: some ByteWriter, to reader: some ByteReader, waitingOn fd: CInt) throws {
        let bytes: [UInt8] = Array(0..<10)
        #expect(try writer.write(bytes.span.extracting(3...)) == 7)
        #expect(try writer.write(bytes.span.bytes.extracting(0..<2)) == 2)

        var typed = [UInt8](repeating: 0xFF, count: 4)
        var typedSpan = typed.mutableSpan
        #expect(try retrying(fd) { () throws(Errno) in try reader.read(into: &typedSpan) } == 4)
        #expect(typed == [3, 4, 5, 6])

        var raw = [UInt8](repeating: 0xFF, count: 16)
        var rawTyped = raw.mutableSpan
        var rawSpan = rawTyped.mutableBytes
        #expect(try retrying(fd) { () throws(Errno) in try reader.read(into: &rawSpan) } == 5)
        #expect(Array(raw[..<5]) == [7, 8, 9, 0, 1])
    }
}
