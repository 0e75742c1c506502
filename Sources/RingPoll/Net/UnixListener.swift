import Glibc

/// A listening Unix domain stream socket that hands out non-blocking `UnixStream`s.
///
/// Register it for `.readable`: an event means connections are queued, and, as with every
/// edge-triggered source, `accept()` should then be called until it throws `Errno.wouldBlock`.
public final class UnixListener: Source, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a listening Unix socket made elsewhere (inherited, or from systemd
    /// socket activation), making it non-blocking and close-on-exec so it behaves like one
    /// RingPoll made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// Binds to `address` and listens with a backlog of 128.
    ///
    /// A path address creates the socket file, which stays after `close()` (remove it yourself,
    /// as with every Unix socket); a path that exists already throws `Errno.addressInUse`, and a
    /// missing directory `Errno.noSuchFileOrDirectory`. An abstract address leaves no file.
    public static func bind(_ address: UnixAddress) throws(Errno) -> UnixListener {
        let owned = try OwnedDescriptor.socket(domain: AF_UNIX, type: SOCK_STREAM)
        try owned.bind(to: address)
        try owned.listen(backlog: 128)
        return UnixListener(owned: owned)
    }

    /// The descriptor, for system calls RingPoll does not wrap; -1 once closed. It stays owned by
    /// the listener: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    /// Takes one queued connection, already non-blocking and close-on-exec, with the peer's
    /// address (usually unnamed: clients rarely bind). Throws `Errno.wouldBlock` when the queue
    /// is empty: wait for the next readable event.
    public func accept() throws(Errno) -> (UnixStream, UnixAddress) {
        let (stream, address) = try owned.accept(UnixAddress.self)
        return (UnixStream(owned: OwnedDescriptor(stream)), address)
    }

    /// The address the listener is bound to.
    public func localAddress() throws(Errno) -> UnixAddress {
        try owned.localAddress(UnixAddress.self)
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
