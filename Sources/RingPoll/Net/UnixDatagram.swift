import Glibc

/// A non-blocking Unix domain datagram socket: message boundaries kept, delivery reliable and in
/// order on the local host (unlike UDP), and no connection to set up.
///
/// Each call moves exactly one datagram; a datagram larger than the buffer is truncated to it.
/// A full receiver makes sends throw `Errno.wouldBlock` instead of dropping the datagram.
public final class UnixDatagram: Source, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a Unix datagram socket made elsewhere, making it non-blocking and
    /// close-on-exec so it behaves like one RingPoll made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// A socket bound to `address`, so others can send to it. A path that exists already throws
    /// `Errno.addressInUse`; the socket file stays after `close()`.
    public static func bind(_ address: UnixAddress) throws(Errno) -> UnixDatagram {
        let owned = try OwnedDescriptor.socket(domain: AF_UNIX, type: SOCK_DGRAM)
        try owned.bind(to: address)
        return UnixDatagram(owned: owned)
    }

    /// A socket with no address: it can send (to named sockets, or after `connect(to:)`) but
    /// nobody can address a reply to it unless it is connected to.
    public static func unbound() throws(Errno) -> UnixDatagram {
        UnixDatagram(owned: try OwnedDescriptor.socket(domain: AF_UNIX, type: SOCK_DGRAM))
    }

    /// Two unnamed sockets connected to each other (socketpair).
    public static func pair() throws(Errno) -> (UnixDatagram, UnixDatagram) {
        let (first, second) = try OwnedDescriptor.socketPair(type: SOCK_DGRAM)
        return (UnixDatagram(owned: OwnedDescriptor(first)), UnixDatagram(owned: OwnedDescriptor(second)))
    }

    /// The descriptor, for system calls RingPoll does not wrap; -1 once closed. It stays owned by
    /// the socket: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    /// Fixes the peer: `send(_:)` goes to it, and only its datagrams are received. A missing
    /// socket file throws `Errno.noSuchFileOrDirectory`; one nobody is bound to,
    /// `Errno.connectionRefused`.
    public func connect(to address: UnixAddress) throws(Errno) {
        try owned.connect(to: address)
    }

    // MARK: Datagrams

    /// Sends one datagram to `target` and returns its size (an empty buffer sends an empty
    /// datagram). Throws `Errno.wouldBlock` when the receiver's queue is full.
    public func send(_ buffer: UnsafeRawBufferPointer, to target: UnixAddress) throws(Errno) -> Int {
        try owned.send(buffer, to: target)
    }

    /// Sends `bytes` as one datagram to `target`.
    public func send(_ bytes: [UInt8], to target: UnixAddress) throws(Errno) -> Int {
        try withBytes(of: bytes) { buffer throws(Errno) in try owned.send(buffer, to: target) }
    }

    /// Takes the next datagram and its sender (unnamed when the sender is not bound). Throws
    /// `Errno.wouldBlock` when none is queued, and `Errno.invalidArgument` for an empty buffer
    /// (the datagram would be lost in it).
    public func receiveFrom(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> (count: Int, address: UnixAddress) {
        try owned.receive(into: buffer, flags: 0, from: UnixAddress.self)
    }

    /// Takes the next datagram into `bytes` (from its start, never resized) and its sender.
    public func receiveFrom(into bytes: inout [UInt8]) throws(Errno) -> (count: Int, address: UnixAddress) {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in
            try owned.receive(into: buffer, flags: 0, from: UnixAddress.self)
        }
    }

    /// Sends one datagram to the connected peer; `Errno.socketNotConnected` when there is none.
    public func send(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try owned.send(buffer)
    }

    /// Sends `bytes` as one datagram to the connected peer.
    public func send(_ bytes: [UInt8]) throws(Errno) -> Int {
        try withBytes(of: bytes) { buffer throws(Errno) in try owned.send(buffer) }
    }

    /// Takes the next datagram (see `receiveFrom(into:)`), without its sender.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try owned.receive(into: buffer, flags: 0)
    }

    /// Takes the next datagram into `bytes`, from its start; the array is never resized.
    public func receive(into bytes: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in try owned.receive(into: buffer, flags: 0) }
    }

    /// Ends one or both directions, for every holder of the socket: after `.write`, its sends
    /// throw `Errno.brokenPipe`; after `.read`, so do the connected peer's sends to it, so a
    /// peer learns that nobody will read any more.
    public func shutdown(_ how: Shutdown) throws(Errno) {
        try owned.shutdown(how)
    }

    // MARK: Addresses

    /// The bound address; unnamed for an unbound socket or a pair end.
    public func localAddress() throws(Errno) -> UnixAddress {
        try owned.localAddress(UnixAddress.self)
    }

    /// The connected peer; `Errno.socketNotConnected` before `connect(to:)`.
    public func peerAddress() throws(Errno) -> UnixAddress {
        try owned.peerAddress(UnixAddress.self)
    }

    /// Reads and clears the pending error (`SO_ERROR`). A failing read of it returns its own
    /// error (`Errno.badFileDescriptor` once closed).
    public func takeError() -> Errno? {
        owned.takeError()
    }

    /// Deregisters and closes now, instead of when the last reference goes. Idempotent; later
    /// calls throw `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        try owned.close()
    }

    // MARK: Source

    /// Starts reporting this socket's readiness to `registry`. A socket is registered with one
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

    /// Stops reporting this socket; `close()` and `deinit` do it on their own.
    public func deregister(_ registry: Registry) throws(Errno) {
        try owned.deregister(registry)
    }
}
