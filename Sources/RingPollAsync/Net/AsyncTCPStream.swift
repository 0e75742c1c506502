import RingPoll

/// A TCP connection whose reads and writes suspend the task instead of blocking or failing
/// with would-block.
///
/// ```swift
/// let stream = try await AsyncTCPStream.connect(to: SocketAddress("127.0.0.1:7000"), on: executor)
/// try await stream.write(Array("hello".utf8))
/// var buffer = [UInt8](repeating: 0, count: 4096)
/// let count = try await stream.read(into: &buffer)     // 0: the peer closed its side
/// ```
///
/// The stream belongs to one `PollExecutor`, whose thread does its I/O. Called from a task
/// that prefers that executor (or from an actor on it), an operation runs on the spot; called
/// from anywhere else, it hops to the executor thread and back.
///
/// A read or write that would block suspends the task until the socket's next readiness edge.
/// One read and one write can be in progress at a time; further ones wait for their turn, in
/// order, so two `write`s never interleave their bytes.
///
/// Errors: `Errno` for what the kernel reports (`Errno.connectionReset`, `Errno.brokenPipe`,
/// `Errno.badFileDescriptor` once closed, …), `CancellationError` when the task is cancelled
/// while it waits or the executor shuts down. Nothing else is thrown.
public final class AsyncTCPStream: Sendable {
    let io: StreamIO<TCPStream>

    /// Wraps a connected (or connecting) RingPoll stream that is not registered with any
    /// `Poll`; its I/O will run on `executor`. The async stream owns it from now on.
    public init(_ stream: TCPStream, on executor: PollExecutor) {
        io = StreamIO(stream, executor: executor)
    }

    /// Connects to `address` and returns once the connection is established. Throws the
    /// connection's error (`Errno.connectionRefused`, `Errno.timedOut`, …).
    nonisolated(nonsending)
    public static func connect(to address: SocketAddress, on executor: PollExecutor) async throws -> AsyncTCPStream {
        let stream = AsyncTCPStream(try TCPStream.connect(to: address), on: executor)
        try await executor.perform(ConnectOperation(stream: stream))
        return stream
    }

    /// The executor whose thread does this stream's I/O.
    public var executor: PollExecutor { io.executor }

    /// Reads what has arrived, up to `buffer.count` bytes, waiting until something has. Returns
    /// 0 at end of stream; an empty buffer throws `Errno.invalidArgument`.
    nonisolated(nonsending)
    public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        try await io.read(into: buffer)
    }

    /// Reads into `bytes` from its start, up to its count (the array is never resized, so one
    /// buffer serves every read without allocating); returns the count, 0 at end of stream.
    nonisolated(nonsending)
    public func read(into bytes: inout [UInt8]) async throws -> Int {
        try await io.read(into: &bytes)
    }

    /// Writes all of `buffer`, waiting whenever the send buffer is full: a peer that does not
    /// read makes the writer wait, so nothing is buffered beyond the kernel's socket buffers.
    nonisolated(nonsending)
    public func write(_ buffer: UnsafeRawBufferPointer) async throws {
        try await io.write(buffer)
    }

    /// Writes all of `bytes`; see `write(_:)` for raw buffers.
    nonisolated(nonsending)
    public func write(_ bytes: [UInt8]) async throws {
        try await io.write(bytes)
    }

    /// Ends one or both directions for every holder of the socket: after `.write` the peer
    /// reads end of stream, while this side can still read the answer.
    public func shutdown(_ how: Shutdown) throws(Errno) {
        try io.shutdown(how)
    }

    /// Closes the connection now (the peer reads end of stream); tasks waiting on it resume
    /// with `Errno.badFileDescriptor`. Closing twice throws `Errno.badFileDescriptor`. Dropping
    /// the last reference closes it too.
    public func close() throws(Errno) {
        try io.close()
    }

    /// The remote address.
    public func peerAddress() throws(Errno) -> SocketAddress {
        try io.socket.peerAddress()
    }

    /// The local address of the connection.
    public func localAddress() throws(Errno) -> SocketAddress {
        try io.socket.localAddress()
    }

    /// `true` turns off Nagle's algorithm, so that small writes leave at once.
    public func setNoDelay(_ noDelay: Bool) throws(Errno) {
        try io.socket.setNoDelay(noDelay)
    }

    /// Whether Nagle's algorithm is off (`TCP_NODELAY`).
    public func noDelay() throws(Errno) -> Bool {
        try io.socket.noDelay()
    }

    private struct ConnectOperation: ExecutorOperation {
        let stream: AsyncTCPStream
        nonisolated(nonsending) func run() async throws {
            let socket = stream.io.socket
            try await stream.io.registration.perform(.write) { () throws(Errno) -> Attempt<Void> in
                if let error = socket.takeError() { throw error }
                return ConnectOperation.isConnected(socket) ? .done(()) : .again
            }
        }

        /// A connect in progress answers `peerAddress` with `Errno.socketNotConnected`.
        static func isConnected(_ socket: TCPStream) -> Bool {
            (try? socket.peerAddress()) != nil
        }
    }
}
