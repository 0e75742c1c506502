import RingPoll
import Synchronization

/// A Unix-domain stream socket whose reads and writes suspend the task instead of blocking;
/// the same model as `AsyncTCPStream` (one executor does its I/O, operations queue per
/// direction, `Errno` or `CancellationError`).
public final class AsyncUnixStream: Sendable {
    let io: StreamIO<UnixStream>

    /// Wraps a connected RingPoll stream that is not registered with any `Poll`.
    public init(_ stream: UnixStream, on executor: PollExecutor) {
        io = StreamIO(stream, executor: executor)
    }

    /// Connects to the socket bound at `address`. Throws `Errno.noSuchFileOrDirectory`,
    /// `Errno.connectionRefused` (nobody listens), and the like.
    nonisolated(nonsending)
    public static func connect(to address: UnixAddress, on executor: PollExecutor) async throws -> AsyncUnixStream {
        let stream = AsyncUnixStream(try UnixStream.connect(to: address), on: executor)
        try await executor.perform(ConnectOperation(stream: stream))
        return stream
    }

    /// A connected pair (socketpair(2)), both on `executor`.
    public static func pair(on executor: PollExecutor) throws(Errno) -> (AsyncUnixStream, AsyncUnixStream) {
        let (first, second) = try UnixStream.pair()
        return (AsyncUnixStream(first, on: executor), AsyncUnixStream(second, on: executor))
    }

    /// The executor whose thread does this stream's I/O.
    public var executor: PollExecutor { io.executor }

    /// Reads what has arrived, up to `buffer.count` bytes, waiting until something has; 0 at end
    /// of stream.
    nonisolated(nonsending)
    public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        try await io.read(into: buffer)
    }

    /// Reads into `bytes` from its start, up to its count; returns the count, 0 at end of stream.
    nonisolated(nonsending)
    public func read(into bytes: inout [UInt8]) async throws -> Int {
        try await io.read(into: &bytes)
    }

    /// Writes all of `buffer`, waiting while the socket buffer is full.
    nonisolated(nonsending)
    public func write(_ buffer: UnsafeRawBufferPointer) async throws {
        try await io.write(buffer)
    }

    /// Writes all of `bytes`.
    nonisolated(nonsending)
    public func write(_ bytes: [UInt8]) async throws {
        try await io.write(bytes)
    }

    /// Ends one or both directions for every holder of the socket.
    public func shutdown(_ how: Shutdown) throws(Errno) {
        try io.shutdown(how)
    }

    /// Closes the socket; waiting tasks resume with `Errno.badFileDescriptor`. Closing twice
    /// throws `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        try io.close()
    }

    /// The address of the peer (unnamed for a socketpair or an unbound client).
    public func peerAddress() throws(Errno) -> UnixAddress {
        try io.socket.peerAddress()
    }

    /// This socket's own address.
    public func localAddress() throws(Errno) -> UnixAddress {
        try io.socket.localAddress()
    }

    private struct ConnectOperation: ExecutorOperation {
        let stream: AsyncUnixStream
        nonisolated(nonsending) func run() async throws {
            let socket = stream.io.socket
            try await stream.io.registration.perform(.write) { () throws(Errno) -> Attempt<Void> in
                if let error = socket.takeError() { throw error }
                return .done(())
            }
        }
    }
}

/// A listening Unix-domain socket whose connections arrive as an `AsyncSequence` of
/// `AsyncUnixStream`s; the same model as `AsyncTCPListener`.
public final class AsyncUnixListener: AsyncSequence, Sendable {
    /// The accepted connections.
    public typealias Element = AsyncUnixStream
    /// Every error an accept can throw (`Errno` or `CancellationError`).
    public typealias Failure = any Error

    let listener: UnixListener
    let registration: Registration
    private let closed = Atomic<Bool>(false)

    /// Binds to `address` (a path or an abstract name) and listens. An existing file at the path
    /// throws `Errno.addressInUse`.
    public static func bind(_ address: UnixAddress, on executor: PollExecutor) throws(Errno) -> AsyncUnixListener {
        AsyncUnixListener(try UnixListener.bind(address), on: executor)
    }

    /// Wraps a listening RingPoll socket that is not registered with any `Poll`.
    public init(_ listener: UnixListener, on executor: PollExecutor) {
        self.listener = listener
        registration = Registration(listener, interests: .readable, executor: executor)
    }

    /// The executor whose thread accepts.
    public var executor: PollExecutor { registration.executor }

    /// Waits for a connection; its I/O runs on `executor` (the listener's by default).
    nonisolated(nonsending)
    public func accept(on executor: PollExecutor? = nil) async throws -> (AsyncUnixStream, UnixAddress) {
        let (stream, address) = try await registration.executor.perform(AcceptOperation(listener: self))
        return (AsyncUnixStream(stream, on: executor ?? registration.executor), address)
    }

    /// The bound address.
    public func localAddress() throws(Errno) -> UnixAddress {
        try listener.localAddress()
    }

    /// Closes the listener (the path stays: remove it yourself); a waiting accept resumes with
    /// `Errno.badFileDescriptor`, an iteration ends. Closing twice throws `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { throw .badFileDescriptor }
        defer { registration.release() }
        try listener.close()
    }

    /// Iterates accepted connections until the listener is closed.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(listener: self)
    }

    /// Accepts one connection per `next()`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let listener: AsyncUnixListener
        private var finished = false

        init(listener: AsyncUnixListener) {
            self.listener = listener
        }

        /// The next connection; nil once the listener is closed (or after an error was thrown).
        public mutating func next() async throws -> AsyncUnixStream? {
            try await next(isolation: nil)
        }

        /// The next connection, accepted without leaving `actor`'s executor when that executor is
        /// the listener's.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> AsyncUnixStream? {
            guard !finished else { return nil }
            do {
                return try await listener.accept().0
            } catch {
                finished = true
                if let errno = error as? Errno, errno == .badFileDescriptor { return nil }
                throw error
            }
        }
    }

    private struct AcceptOperation: ExecutorOperation {
        let listener: AsyncUnixListener
        nonisolated(nonsending) func run() async throws -> (UnixStream, UnixAddress) {
            let socket = listener.listener
            return try await listener.registration.perform(.read) { () throws(Errno) -> Attempt<(UnixStream, UnixAddress)> in
                .done(try socket.accept())
            }
        }
    }
}
