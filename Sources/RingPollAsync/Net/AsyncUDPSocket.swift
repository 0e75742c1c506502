import RingPoll
import Synchronization

/// A UDP socket whose sends and receives suspend the task instead of failing with would-block.
///
/// ```swift
/// let socket = try AsyncUDPSocket.bind(SocketAddress("127.0.0.1:0"), on: executor)
/// try await socket.send(Array("ping".utf8), to: peer)
/// var buffer = [UInt8](repeating: 0, count: 1500)
/// let (count, sender) = try await socket.receiveFrom(into: &buffer)
/// ```
///
/// A datagram is sent whole or not at all; one that does not fit the receive buffer is
/// truncated, as recvfrom(2) does. One send and one receive can be in progress at a time;
/// further ones wait for their turn, in order. Errors: `Errno`, or `CancellationError` when the
/// task is cancelled while it waits or the executor shuts down.
public final class AsyncUDPSocket: Sendable {
    let socket: UDPSocket
    let registration: Registration
    private let closed = Atomic<Bool>(false)

    /// Binds a socket to `address` (port 0: any free port).
    public static func bind(_ address: SocketAddress, on executor: PollExecutor) throws(Errno) -> AsyncUDPSocket {
        AsyncUDPSocket(try UDPSocket.bind(address), on: executor)
    }

    /// Wraps a RingPoll UDP socket that is not registered with any `Poll`.
    public init(_ socket: UDPSocket, on executor: PollExecutor) {
        self.socket = socket
        registration = Registration(socket, interests: [.readable, .writable], executor: executor)
    }

    /// The executor whose thread does this socket's I/O.
    public var executor: PollExecutor { registration.executor }

    /// Sends one datagram to `target`, waiting while the socket buffer is full; returns the
    /// bytes sent (all of them).
    @discardableResult
    nonisolated(nonsending)
    public func send(_ bytes: [UInt8], to target: SocketAddress) async throws -> Int {
        try await executor.perform(SendOperation(udp: self, bytes: bytes, target: target))
    }

    /// Sends one datagram to the connected peer (see `connect(to:)`).
    @discardableResult
    nonisolated(nonsending)
    public func send(_ bytes: [UInt8]) async throws -> Int {
        try await executor.perform(SendOperation(udp: self, bytes: bytes, target: nil))
    }

    /// Waits for a datagram, copies it into `bytes` from the start (truncating it to the array's
    /// count) and returns its size and sender.
    nonisolated(nonsending)
    public func receiveFrom(into bytes: inout [UInt8]) async throws -> (count: Int, address: SocketAddress) {
        if executor.isCurrent, executor.runsHere(#isolation) {
            return try await receiveHere(into: &bytes)
        }
        let box = ArrayBox(bytes)
        bytes = []
        defer { bytes = box.bytes }
        return try await executor.perform(ReceiveOperation(udp: self, box: box))
    }

    /// Waits for a datagram from the connected peer; returns its size.
    nonisolated(nonsending)
    public func receive(into bytes: inout [UInt8]) async throws -> Int {
        try await receiveFrom(into: &bytes).count
    }

    /// Sets the default destination and only accepts datagrams from it.
    public func connect(to address: SocketAddress) throws(Errno) {
        try socket.connect(to: address)
    }

    /// The bound address.
    public func localAddress() throws(Errno) -> SocketAddress {
        try socket.localAddress()
    }

    /// The connected peer; `Errno.socketNotConnected` unless `connect(to:)` was called.
    public func peerAddress() throws(Errno) -> SocketAddress {
        try socket.peerAddress()
    }

    /// Closes the socket; waiting tasks resume with `Errno.badFileDescriptor`. Closing twice
    /// throws `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { throw .badFileDescriptor }
        defer { registration.release() }
        try socket.close()
    }

    private struct SendOperation: ExecutorOperation {
        let udp: AsyncUDPSocket
        let bytes: [UInt8]
        let target: SocketAddress?
        nonisolated(nonsending) func run() async throws -> Int {
            let socket = udp.socket
            return try await udp.registration.perform(.write) { () throws(Errno) -> Attempt<Int> in
                if let target { return .done(try socket.send(bytes, to: target)) }
                return .done(try socket.send(bytes))
            }
        }
    }

    nonisolated(nonsending)
    func receiveHere(into bytes: inout [UInt8]) async throws -> (count: Int, address: SocketAddress) {
        guard !bytes.isEmpty else { throw Errno.invalidArgument }
        let socket = self.socket
        return try await registration.perform(.read) { () throws(Errno) -> Attempt<(count: Int, address: SocketAddress)> in
            .done(try socket.receiveFrom(into: &bytes))
        }
    }

    private struct ReceiveOperation: ExecutorOperation {
        let udp: AsyncUDPSocket
        let box: ArrayBox
        nonisolated(nonsending) func run() async throws -> (count: Int, address: SocketAddress) {
            try await udp.receiveHere(into: &box.bytes)
        }
    }
}
