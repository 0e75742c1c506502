import Glibc

/// A non-blocking connected Unix domain stream socket: a local byte stream between processes (or
/// threads), with the same read and write rules as `TCPStream`.
///
/// Reads and writes never wait: they throw `Errno.wouldBlock` and the caller waits for the next
/// readable or writable event instead. A read returning 0 means the peer closed its side.
public final class UnixStream: Source, ByteReader, ByteWriter, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a Unix stream socket made elsewhere (one end of a socketpair handed to
    /// a child, say), making it non-blocking and close-on-exec so it behaves like one RingPoll
    /// made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// Connects to the listener at `address`. Local connects finish at once or fail at once:
    /// `Errno.noSuchFileOrDirectory` when no socket file is there, `Errno.connectionRefused` when
    /// nobody listens on it, and `Errno.wouldBlock` when the listener's backlog is full.
    public static func connect(to address: UnixAddress) throws(Errno) -> UnixStream {
        let owned = try OwnedDescriptor.socket(domain: AF_UNIX, type: SOCK_STREAM)
        try owned.connect(to: address)
        return UnixStream(owned: owned)
    }

    /// Two streams connected to each other (socketpair), both unnamed: the cheapest way to talk
    /// between two parts of one program, or to a child process.
    public static func pair() throws(Errno) -> (UnixStream, UnixStream) {
        let (first, second) = try OwnedDescriptor.socketPair(type: SOCK_STREAM)
        return (UnixStream(owned: OwnedDescriptor(first)), UnixStream(owned: OwnedDescriptor(second)))
    }

    /// The descriptor, for system calls RingPoll does not wrap; -1 once closed. It stays owned by
    /// the stream: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    // MARK: Byte I/O

    /// Reads what has arrived, up to `buffer.count` bytes. Returns 0 at end of stream; throws
    /// `Errno.wouldBlock` when nothing is there yet, and `Errno.invalidArgument` for an empty
    /// buffer (whose 0 could not be told from end of stream).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try owned.read(into: buffer)
    }

    /// Writes as much of `buffer` as the socket takes now and returns that count (possibly less
    /// than asked: keep the rest for the next writable event). Throws `Errno.wouldBlock` when
    /// the send buffer is full and `Errno.brokenPipe` once the connection is gone (never
    /// SIGPIPE). An empty buffer writes nothing and returns 0.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try owned.send(buffer)
    }

    /// Copies arriving data without consuming it, so the next read sees it again; useful to
    /// sniff a protocol before choosing a handler. Same results as `read(into:)`.
    public func peek(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try owned.receive(into: buffer, flags: CInt(MSG_PEEK))
    }

    /// Reads into several buffers in order with one system call (readv), filling each before
    /// the next. At most 1024 buffers are used per call. Buffers with no room at all throw
    /// `Errno.invalidArgument`.
    public func read(into buffers: [UnsafeMutableRawBufferPointer]) throws(Errno) -> Int {
        try owned.read(into: buffers)
    }

    /// Writes several buffers in order with one system call (sendmsg), for example a header and
    /// a body without copying them together. Returns the total written, which may end inside
    /// any buffer. At most 1024 buffers are used per call.
    public func write(_ buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        try owned.send(buffers)
    }

    /// Reads into `bytes` from its start, up to its current count, and returns how many bytes
    /// were read; the array is never resized, so one buffer can be reused without allocating.
    public func read(into bytes: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in try owned.read(into: buffer) }
    }

    /// Writes from `bytes`; see `write(_:)` for raw buffers.
    public func write(_ bytes: [UInt8]) throws(Errno) -> Int {
        try withBytes(of: bytes) { buffer throws(Errno) in try owned.send(buffer) }
    }

    /// Peeks into `bytes` from its start, up to its current count; see `peek(into:)`.
    public func peek(into bytes: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in
            try owned.receive(into: buffer, flags: CInt(MSG_PEEK))
        }
    }

    // MARK: Connection

    /// The peer's address: the listener's path or name for a connecting stream, usually unnamed
    /// for an accepted one (clients rarely bind).
    public func peerAddress() throws(Errno) -> UnixAddress {
        try owned.peerAddress(UnixAddress.self)
    }

    /// This end's address: unnamed unless the socket was bound; for an accepted stream, the
    /// listener's address.
    public func localAddress() throws(Errno) -> UnixAddress {
        try owned.localAddress(UnixAddress.self)
    }

    /// Ends one or both directions for every holder of the socket. After `.write` the peer
    /// reads end of stream, while this side can still read the peer's answer.
    public func shutdown(_ how: Shutdown) throws(Errno) {
        try owned.shutdown(how)
    }

    /// Reads and clears the pending error (`SO_ERROR`). A failing read of it returns its own
    /// error (`Errno.badFileDescriptor` once closed).
    public func takeError() -> Errno? {
        owned.takeError()
    }

    /// Deregisters and closes now, instead of when the last reference goes: the peer reads end
    /// of stream at once, on every backend. Idempotent; later calls on the stream throw
    /// `Errno.badFileDescriptor` and never reach a descriptor reused by someone else.
    public func close() throws(Errno) {
        try owned.close()
    }

    // MARK: Source

    /// Starts reporting this stream's readiness to `registry`. A socket is registered with one
    /// `Poll` at a time: a second registration, with this or another poll, throws
    /// `Errno.fileExists`.
    public func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try owned.register(registry, token: token, interests: interests, trigger: trigger)
    }

    /// Replaces token, interests and trigger; `Errno.noSuchFileOrDirectory` unless registered with
    /// `registry`.
    public func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try owned.reregister(registry, token: token, interests: interests, trigger: trigger)
    }

    /// Stops reporting this stream; `close()` and `deinit` do it on their own.
    public func deregister(_ registry: Registry) throws(Errno) {
        try owned.deregister(registry)
    }
}
