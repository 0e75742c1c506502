import RingPoll
import Synchronization

/// A listening TCP socket whose connections arrive as an `AsyncSequence` of `AsyncTCPStream`s.
///
/// ```swift
/// let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:7000"), on: executor)
/// for try await connection in listener {
///     Task(executorPreference: executor) { try await serve(connection) }
/// }
/// ```
///
/// Accepting waits (suspends) until a connection is queued. The sequence ends when the listener
/// is closed; it throws the accept's `Errno` otherwise (for example `Errno.tooManyOpenFiles`, after
/// which a new iterator or `accept()` may be tried), and `CancellationError` when the task is
/// cancelled or the executor shuts down. Connections that failed before they were accepted
/// (`Errno.connectionAbort`) are skipped.
///
/// With `reusePort: true` several listeners (one per executor of a `PollExecutorGroup`) bind the
/// same address and the kernel spreads connections among them.
public final class AsyncTCPListener: AsyncSequence, Sendable {
    /// The accepted connections.
    public typealias Element = AsyncTCPStream
    /// Every error an accept can throw (`Errno` or `CancellationError`).
    public typealias Failure = any Error

    let listener: TCPListener
    let registration: Registration
    private let closed = Atomic<Bool>(false)

    /// Binds to `address` and listens. `SO_REUSEADDR` is set (a restarted server can bind again
    /// while old connections are in TIME_WAIT); `reusePort` sets `SO_REUSEPORT` too. Port 0
    /// picks a free port (see `localAddress()`). Throws `Errno.addressInUse` and the like.
    public static func bind(_ address: SocketAddress, reusePort: Bool = false, backlog: Int = 1024,
                            on executor: PollExecutor) throws(Errno) -> AsyncTCPListener {
        AsyncTCPListener(try ListeningSocket.tcp(address, reusePort: reusePort, backlog: backlog), on: executor)
    }

    /// Wraps a listening RingPoll socket that is not registered with any `Poll`.
    public init(_ listener: TCPListener, on executor: PollExecutor) {
        self.listener = listener
        registration = Registration(listener, interests: .readable, executor: executor)
    }

    /// The executor whose thread accepts.
    public var executor: PollExecutor { registration.executor }

    /// Waits for a connection and returns it with the peer's address; its I/O runs on
    /// `executor`. Throws `Errno.badFileDescriptor` once the listener is closed.
    nonisolated(nonsending)
    public func accept() async throws -> (AsyncTCPStream, SocketAddress) {
        try await accept(on: registration.executor)
    }

    /// Waits for a connection whose I/O will run on `executor` (for example `group.next()`).
    nonisolated(nonsending)
    public func accept(on executor: PollExecutor) async throws -> (AsyncTCPStream, SocketAddress) {
        let (stream, address) = try await registration.executor.perform(AcceptOperation(listener: self))
        return (AsyncTCPStream(stream, on: executor), address)
    }

    /// The bound address; with port 0 at `bind`, the port the kernel chose.
    public func localAddress() throws(Errno) -> SocketAddress {
        try listener.localAddress()
    }

    /// Closes the listener; a task waiting in `accept` resumes with `Errno.badFileDescriptor`,
    /// an iteration ends. Closing twice throws `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { throw .badFileDescriptor }
        defer { registration.release() }
        try listener.close()
    }

    /// Iterates accepted connections (see the type's documentation for when it ends).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(listener: self)
    }

    /// Accepts one connection per `next()`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let listener: AsyncTCPListener
        private var finished = false

        init(listener: AsyncTCPListener) {
            self.listener = listener
        }

        /// The next connection; nil once the listener is closed (or after an error was thrown).
        public mutating func next() async throws -> AsyncTCPStream? {
            try await next(isolation: nil)
        }

        /// The next connection, accepted without leaving `actor`'s executor when that executor is
        /// the listener's.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> AsyncTCPStream? {
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
        let listener: AsyncTCPListener
        /// A connection that failed before it was accepted (`Errno.connectionAbort`) gives nil: the
        /// next one is tried.
        static func acceptSkippingAborted(_ socket: TCPListener) throws(Errno) -> (TCPStream, SocketAddress)? {
            do {
                return try socket.accept()
            } catch {
                if error == .connectionAbort { return nil }
                throw error
            }
        }

        nonisolated(nonsending) func run() async throws -> (TCPStream, SocketAddress) {
            let socket = listener.listener
            return try await listener.registration.perform(.read) { () throws(Errno) -> Attempt<(TCPStream, SocketAddress)> in
                while true {
                    if let accepted = try AcceptOperation.acceptSkippingAborted(socket) { return .done(accepted) }
                }
            }
        }
    }
}
