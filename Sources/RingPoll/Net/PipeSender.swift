import Glibc

/// The writing end of a pipe made by `makePipe()`.
///
/// Writes never wait: a full pipe throws `Errno.wouldBlock` (wait for a writable event), and a
/// pipe whose reader is gone throws `Errno.brokenPipe` instead of raising SIGPIPE, which would
/// end the process.
public final class PipeSender: Source, ByteWriter, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a pipe's writing end made elsewhere (a child's stdin, say), making it
    /// non-blocking and close-on-exec so it behaves like one `makePipe()` made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// The descriptor, for system calls RingPoll does not wrap (such as `dup2` onto a child's
    /// standard input); -1 once closed. It stays owned by the sender: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    /// Writes as much of `buffer` as the pipe takes now and returns that count. Writes of up to
    /// 4096 bytes (PIPE_BUF) are atomic: all or nothing. An empty buffer returns 0.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try owned.pipeWrite(buffer)
    }

    /// Writes several buffers in order with one system call (writev); at most 1024 per call.
    public func write(_ buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        try owned.pipeWrite(buffers)
    }

    /// Writes from `bytes`; see `write(_:)` for raw buffers.
    public func write(_ bytes: [UInt8]) throws(Errno) -> Int {
        try withBytes(of: bytes) { buffer throws(Errno) in try owned.pipeWrite(buffer) }
    }

    /// Makes the pipe blocking (`false`) or non-blocking again (`true`), mostly to hand it to a
    /// program that expects a blocking descriptor. The flag belongs to the open file, so a child
    /// sharing it sees the change too. A blocked write cannot be ended by `close()`, which waits
    /// for it: keep a blocking end out of a `Poll`.
    public func setNonBlocking(_ nonBlocking: Bool) throws(Errno) {
        try owned.setNonBlocking(nonBlocking)
    }

    /// Deregisters and closes now, so the reader sees end of stream at once, on every backend.
    /// Idempotent; later calls throw `Errno.badFileDescriptor`.
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
