import Glibc

/// A non-blocking TCP connection.
///
/// Reads and writes never wait: they throw `Errno.wouldBlock` and the caller waits for the next
/// readable or writable event instead. With the default edge trigger, keep reading (or writing)
/// until that error before polling again. A read returning 0 means the peer closed its side.
public final class TCPStream: Source, ByteReader, ByteWriter, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a connected (or connecting) TCP socket made elsewhere, making it
    /// non-blocking and close-on-exec so it behaves like one RingPoll made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// Starts connecting to `address` and returns at once, as mio does.
    ///
    /// The connection is not usable yet: register the stream for `.writable`; when that event
    /// comes, `takeError()` returning `nil` (and `peerAddress()` succeeding) means connected,
    /// while an error such as `Errno.connectionRefused` means the attempt failed. Errors the
    /// kernel knows at once (an unreachable network, a family this host lacks) are thrown here.
    public static func connect(to address: SocketAddress) throws(Errno) -> TCPStream {
        let owned = try OwnedDescriptor.socket(domain: address.family, type: SOCK_STREAM)
        try owned.connect(to: address)
        return TCPStream(owned: owned)
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

    /// The remote address. `Errno.socketNotConnected` while a connect is still under way or after it
    /// failed, which is how mio users tell a finished connect from a pending one.
    public func peerAddress() throws(Errno) -> SocketAddress {
        try owned.peerAddress(SocketAddress.self)
    }

    /// The local address the kernel chose for this connection.
    public func localAddress() throws(Errno) -> SocketAddress {
        try owned.localAddress(SocketAddress.self)
    }

    /// Ends one or both directions for every holder of the socket. After `.write` the peer
    /// reads end of stream, while this side can still read the peer's answer.
    public func shutdown(_ how: Shutdown) throws(Errno) {
        try owned.shutdown(how)
    }

    /// `true` turns off Nagle's algorithm, so small writes leave at once instead of waiting to
    /// be merged: lower latency for request/response protocols, more packets.
    public func setNoDelay(_ noDelay: Bool) throws(Errno) {
        try owned.setFlag(level: CInt(IPPROTO_TCP), name: TCP_NODELAY, to: noDelay)
    }

    /// Whether Nagle's algorithm is off (`TCP_NODELAY`).
    public func noDelay() throws(Errno) -> Bool {
        try owned.flag(level: CInt(IPPROTO_TCP), name: TCP_NODELAY)
    }

    /// Sets the time-to-live (IPv6: hop limit) of outgoing packets.
    public func setTTL(_ ttl: UInt32) throws(Errno) {
        try owned.setTimeToLive(ttl)
    }

    /// The time-to-live (IPv6: hop limit) of outgoing packets.
    public func ttl() throws(Errno) -> UInt32 {
        try owned.timeToLive()
    }

    /// Reads and clears the pending error (`SO_ERROR`): after a writable event on a connecting
    /// stream, `nil` means connected. A failing read of it returns its own error
    /// (`Errno.badFileDescriptor` once closed).
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
