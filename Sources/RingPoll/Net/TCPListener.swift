import Glibc

/// A listening TCP socket that hands out non-blocking `TCPStream`s.
///
/// Register it for `.readable`: an event means connections are queued, and, as with every
/// edge-triggered source, `accept()` should then be called until it throws `Errno.wouldBlock`.
public final class TCPListener: Source, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a listening socket made elsewhere (inherited, or from systemd socket
    /// activation), making it non-blocking and close-on-exec so it behaves like one RingPoll made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// Binds to `address` and listens with a backlog of 128.
    ///
    /// `SO_REUSEADDR` is set so that a restarted server can bind its port again while connections
    /// of the previous run are still in TIME_WAIT. Port 0 picks a free port (see `localAddress()`).
    /// An address that is taken throws `Errno.addressInUse`; one that is not on this host,
    /// `Errno.addressNotAvailable`.
    public static func bind(_ address: SocketAddress) throws(Errno) -> TCPListener {
        let owned = try OwnedDescriptor.socket(domain: address.family, type: SOCK_STREAM)
        try owned.setFlag(level: SOL_SOCKET, name: SO_REUSEADDR, to: true)
        try owned.bind(to: address)
        try owned.listen(backlog: 128)
        return TCPListener(owned: owned)
    }

    /// The descriptor, for system calls RingPoll does not wrap; -1 once closed. It stays owned by
    /// the listener: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    /// Takes one queued connection, already non-blocking and close-on-exec, with the peer's
    /// address. Throws `Errno.wouldBlock` when the queue is empty: wait for the next readable
    /// event.
    public func accept() throws(Errno) -> (TCPStream, SocketAddress) {
        let (stream, address) = try owned.accept(SocketAddress.self)
        return (TCPStream(owned: OwnedDescriptor(stream)), address)
    }

    /// The bound address; with port 0 at `bind`, this tells which port the kernel chose.
    public func localAddress() throws(Errno) -> SocketAddress {
        try owned.localAddress(SocketAddress.self)
    }

    /// Sets the time-to-live (IPv6: hop limit) that accepted connections inherit.
    public func setTTL(_ ttl: UInt32) throws(Errno) {
        try owned.setTimeToLive(ttl)
    }

    /// The time-to-live (IPv6: hop limit) set with `setTTL(_:)`, or the system default.
    public func ttl() throws(Errno) -> UInt32 {
        try owned.timeToLive()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`), or returns the error of reading
    /// it (`Errno.badFileDescriptor` once closed).
    public func takeError() -> Errno? {
        owned.takeError()
    }

    /// Deregisters and closes now, instead of when the last reference goes. Idempotent; later
    /// calls on the listener throw `Errno.badFileDescriptor`.
    public func close() throws(Errno) {
        try owned.close()
    }

    /// Starts reporting this listener's readiness to `registry`. A socket is registered with one
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

    /// Stops reporting this listener; `close()` and `deinit` do it on their own.
    public func deregister(_ registry: Registry) throws(Errno) {
        try owned.deregister(registry)
    }
}
