/// Something bytes are read from: `TCPStream`, `UnixStream` and `PipeReceiver`.
///
/// Generic code (a protocol codec, an async wrapper) can take any of them; the span readers
/// below come with it.
public protocol ByteReader: AnyObject, Sendable {
    /// Reads what has arrived, up to `buffer.count` bytes; 0 at end of stream. Throws
    /// `Errno.wouldBlock` when nothing is there yet, `Errno.invalidArgument` for an empty buffer.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
}

/// Something bytes are written to: `TCPStream`, `UnixStream` and `PipeSender`.
public protocol ByteWriter: AnyObject, Sendable {
    /// Writes as much of `buffer` as fits now and returns that count; throws `Errno.wouldBlock`
    /// when nothing fits and `Errno.brokenPipe` once the reader is gone.
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int
}

extension ByteReader {
    /// Reads into `bytes` from its start and returns the count read, as `read(into:)` with a raw
    /// buffer does: the span's memory is the kernel's destination, nothing is copied twice.
    @inlinable
    public func read(into bytes: inout MutableSpan<UInt8>) throws(Errno) -> Int {
        try bytes.withUnsafeMutableBytes { (buffer) throws(Errno) -> Int in try read(into: buffer) }
    }

    /// Raw-span form of `read(into:)`.
    @inlinable
    public func read(into bytes: inout MutableRawSpan) throws(Errno) -> Int {
        try bytes.withUnsafeMutableBytes { (buffer) throws(Errno) -> Int in try read(into: buffer) }
    }
}

extension ByteWriter {
    /// Writes from `bytes` (for example `array.span.extracting(start...)`) and returns the count
    /// written, as `write(_:)` with a raw buffer does.
    @inlinable
    public func write(_ bytes: Span<UInt8>) throws(Errno) -> Int {
        try bytes.withUnsafeBytes { (buffer) throws(Errno) -> Int in try write(buffer) }
    }

    /// Raw-span form of `write(_:)`.
    @inlinable
    public func write(_ bytes: RawSpan) throws(Errno) -> Int {
        try bytes.withUnsafeBytes { (buffer) throws(Errno) -> Int in try write(buffer) }
    }
}
