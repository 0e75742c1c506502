import Glibc

/// The reading end of a pipe made by `makePipe()`.
///
/// Reads never wait: an empty pipe throws `Errno.wouldBlock` (wait for a readable event); once
/// every sender is closed and the pipe is drained, a read returns 0.
public final class PipeReceiver: Source, ByteReader, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a pipe's reading end made elsewhere (a child's stdout, say), making it
    /// non-blocking and close-on-exec so it behaves like one `makePipe()` made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// The descriptor, for system calls RingPoll does not wrap (such as `dup2` onto a child's
    /// standard output); -1 once closed. It stays owned by the receiver: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    /// Reads what the pipe holds, up to `buffer.count` bytes. Returns 0 at end of stream; throws
    /// `Errno.wouldBlock` when the pipe is empty, and `Errno.invalidArgument` for an empty buffer
    /// (whose 0 could not be told from end of stream).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try owned.read(into: buffer)
    }

    /// Reads into several buffers in order with one system call (readv); at most 1024 per call.
    /// Buffers with no room at all throw `Errno.invalidArgument`.
    public func read(into buffers: [UnsafeMutableRawBufferPointer]) throws(Errno) -> Int {
        try owned.read(into: buffers)
    }

    /// Reads into `bytes` from its start, up to its current count, and returns how many bytes
    /// were read; the array is never resized, so one buffer can be reused without allocating.
    public func read(into bytes: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in try owned.read(into: buffer) }
    }

    /// Makes the pipe blocking (`false`) or non-blocking again (`true`), mostly to hand it to a
    /// program that expects a blocking descriptor. The flag belongs to the open file, so a child
    /// sharing it sees the change too. A blocked read cannot be ended by `close()`, which waits
    /// for it: keep a blocking end out of a `Poll`.
    public func setNonBlocking(_ nonBlocking: Bool) throws(Errno) {
        try owned.setNonBlocking(nonBlocking)
    }

    /// Deregisters and closes now; a writer then gets `Errno.brokenPipe`. Idempotent; later calls
    /// throw `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        try owned.close()
    }

    /// Starts reporting this end's readiness to `registry`. It is registered with one `Poll` at
    /// a time: a second registration throws `Errno.fileExists`.
    public func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try owned.register(registry, token: token, interests: interests, trigger: trigger)
    }

    /// Replaces token, interests and trigger; `Errno.noSuchFileOrDirectory` unless registered with
    /// `registry`.
    public func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try owned.reregister(registry, token: token, interests: interests, trigger: trigger)
    }

    /// Stops reporting this end; `close()` and `deinit` do it on their own.
    public func deregister(_ registry: Registry) throws(Errno) {
        try owned.deregister(registry)
    }
}
