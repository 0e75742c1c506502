import Glibc

/// A non-blocking UDP socket.
///
/// Unconnected, it sends to and receives from anyone (`send(_:to:)`, `receiveFrom(into:)`).
/// After `connect(to:)` it talks to one peer with `send(_:)` and `receive(into:)`, and the kernel
/// drops datagrams from everyone else. Each call moves exactly one datagram; a datagram larger
/// than the buffer is truncated to it.
public final class UDPSocket: Source, Sendable {
    let owned: OwnedDescriptor

    init(owned: consuming OwnedDescriptor) {
        self.owned = owned
    }

    /// Takes ownership of a UDP socket made elsewhere, making it non-blocking and close-on-exec
    /// so it behaves like one RingPoll made.
    public init(adopting fd: CInt) throws(Errno) {
        owned = try OwnedDescriptor(adopting: fd)
    }

    /// A socket bound to `address`; port 0 picks a free port (see `localAddress()`). The
    /// address's family decides the socket's: an IPv6 address makes an IPv6 socket.
    public static func bind(_ address: SocketAddress) throws(Errno) -> UDPSocket {
        let owned = try OwnedDescriptor.socket(domain: address.family, type: SOCK_DGRAM)
        try owned.bind(to: address)
        return UDPSocket(owned: owned)
    }

    /// The descriptor, for system calls RingPoll does not wrap; -1 once closed. It stays owned by
    /// the socket: do not close it.
    public var fileDescriptor: CInt { owned.rawValue }

    // MARK: Unconnected datagrams

    /// Sends one datagram to `target` and returns its size (an empty buffer sends an empty
    /// datagram). Throws `Errno.wouldBlock` when the send buffer is full.
    public func send(_ buffer: UnsafeRawBufferPointer, to target: SocketAddress) throws(Errno) -> Int {
        try owned.send(buffer, to: target)
    }

    /// Sends `bytes` as one datagram to `target`.
    public func send(_ bytes: [UInt8], to target: SocketAddress) throws(Errno) -> Int {
        try withBytes(of: bytes) { buffer throws(Errno) in try owned.send(buffer, to: target) }
    }

    /// Takes the next datagram and its sender. Throws `Errno.wouldBlock` when none is queued, and
    /// `Errno.invalidArgument` for an empty buffer (the datagram would be lost in it).
    public func receiveFrom(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> (count: Int, address: SocketAddress) {
        try owned.receive(into: buffer, flags: 0, from: SocketAddress.self)
    }

    /// Takes the next datagram into `bytes` (from its start, never resized) and its sender.
    public func receiveFrom(into bytes: inout [UInt8]) throws(Errno) -> (count: Int, address: SocketAddress) {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in
            try owned.receive(into: buffer, flags: 0, from: SocketAddress.self)
        }
    }

    /// Like `receiveFrom(into:)`, but leaves the datagram queued for the next receive.
    public func peekFrom(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> (count: Int, address: SocketAddress) {
        try owned.receive(into: buffer, flags: CInt(MSG_PEEK), from: SocketAddress.self)
    }

    /// Like `receiveFrom(into:)` on an array, but leaves the datagram queued.
    public func peekFrom(into bytes: inout [UInt8]) throws(Errno) -> (count: Int, address: SocketAddress) {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in
            try owned.receive(into: buffer, flags: CInt(MSG_PEEK), from: SocketAddress.self)
        }
    }

    // MARK: Connected datagrams

    /// Fixes the peer: `send(_:)` goes to it, and only its datagrams are received. Takes effect
    /// at once (UDP has no handshake); errors of later sends, such as `Errno.connectionRefused`
    /// when nothing listens, come back from the following calls.
    public func connect(to address: SocketAddress) throws(Errno) {
        try owned.connect(to: address)
    }

    /// Sends one datagram to the connected peer; `Errno.addressRequired` when not
    /// connected.
    public func send(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try owned.send(buffer)
    }

    /// Sends `bytes` as one datagram to the connected peer.
    public func send(_ bytes: [UInt8]) throws(Errno) -> Int {
        try withBytes(of: bytes) { buffer throws(Errno) in try owned.send(buffer) }
    }

    /// Takes the next datagram from the connected peer (see `receiveFrom(into:)`).
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try owned.receive(into: buffer, flags: 0)
    }

    /// Takes the next datagram into `bytes`, from its start; the array is never resized.
    public func receive(into bytes: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in try owned.receive(into: buffer, flags: 0) }
    }

    /// Copies the next datagram without taking it.
    public func peek(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try owned.receive(into: buffer, flags: CInt(MSG_PEEK))
    }

    /// Copies the next datagram into `bytes` without taking it.
    public func peek(into bytes: inout [UInt8]) throws(Errno) -> Int {
        try withMutableBytes(of: &bytes) { buffer throws(Errno) in
            try owned.receive(into: buffer, flags: CInt(MSG_PEEK))
        }
    }

    // MARK: Addresses

    /// The bound address; with port 0 at `bind`, this tells which port the kernel chose.
    public func localAddress() throws(Errno) -> SocketAddress {
        try owned.localAddress(SocketAddress.self)
    }

    /// The connected peer; `Errno.socketNotConnected` before `connect(to:)`.
    public func peerAddress() throws(Errno) -> SocketAddress {
        try owned.peerAddress(SocketAddress.self)
    }

    // MARK: Options

    /// Allows sending to broadcast addresses, which the kernel refuses by default so that a
    /// mistyped address does not flood a network.
    public func setBroadcast(_ on: Bool) throws(Errno) {
        try owned.setFlag(level: SOL_SOCKET, name: SO_BROADCAST, to: on)
    }

    /// Whether sending to broadcast addresses is allowed (`SO_BROADCAST`).
    public func broadcast() throws(Errno) -> Bool {
        try owned.flag(level: SOL_SOCKET, name: SO_BROADCAST)
    }

    /// Whether this host's own IPv4 multicast sends are looped back to its members (the default).
    public func setMulticastLoopV4(_ on: Bool) throws(Errno) {
        try owned.setFlag(level: CInt(IPPROTO_IP), name: IP_MULTICAST_LOOP, to: on)
    }

    /// Whether IPv4 multicast sends are looped back (`IP_MULTICAST_LOOP`).
    public func multicastLoopV4() throws(Errno) -> Bool {
        try owned.flag(level: CInt(IPPROTO_IP), name: IP_MULTICAST_LOOP)
    }

    /// How many router hops IPv4 multicast datagrams may cross (default 1: the local network).
    /// Values over 255 throw `Errno.invalidArgument`.
    public func setMulticastTTLV4(_ ttl: UInt32) throws(Errno) {
        guard let value = CInt(exactly: ttl) else { throw .invalidArgument }
        try owned.setOption(level: CInt(IPPROTO_IP), name: IP_MULTICAST_TTL, to: value)
    }

    /// The IPv4 multicast time-to-live (`IP_MULTICAST_TTL`).
    public func multicastTTLV4() throws(Errno) -> UInt32 {
        UInt32(truncatingIfNeeded: try owned.option(level: CInt(IPPROTO_IP), name: IP_MULTICAST_TTL))
    }

    /// Whether this host's own IPv6 multicast sends are looped back (the default). IPv6 sockets
    /// only.
    public func setMulticastLoopV6(_ on: Bool) throws(Errno) {
        try owned.setFlag(level: CInt(IPPROTO_IPV6), name: IPV6_MULTICAST_LOOP, to: on)
    }

    /// Whether IPv6 multicast sends are looped back (`IPV6_MULTICAST_LOOP`).
    public func multicastLoopV6() throws(Errno) -> Bool {
        try owned.flag(level: CInt(IPPROTO_IPV6), name: IPV6_MULTICAST_LOOP)
    }

    /// Joins the IPv4 multicast `group` on the interface with address `interface`
    /// (`.anyV4`: let the kernel choose). Both must be IPv4 (else `Errno.invalidArgument`).
    public func joinMulticastV4(group: IPAddress, interface: IPAddress) throws(Errno) {
        try owned.setOption(level: CInt(IPPROTO_IP), name: IP_ADD_MEMBERSHIP, to: try Self.request(group, interface))
    }

    /// Leaves an IPv4 multicast group joined with `joinMulticastV4(group:interface:)`.
    public func leaveMulticastV4(group: IPAddress, interface: IPAddress) throws(Errno) {
        try owned.setOption(level: CInt(IPPROTO_IP), name: IP_DROP_MEMBERSHIP, to: try Self.request(group, interface))
    }

    /// Joins the IPv6 multicast `group` on the interface with index `interfaceIndex` (0: let
    /// the kernel choose). `group` must be IPv6 (else `Errno.invalidArgument`).
    public func joinMulticastV6(group: IPAddress, interfaceIndex: UInt32) throws(Errno) {
        try owned.setOption(level: CInt(IPPROTO_IPV6), name: IPV6_ADD_MEMBERSHIP, to: try Self.request(group, interfaceIndex))
    }

    /// Leaves an IPv6 multicast group joined with `joinMulticastV6(group:interfaceIndex:)`.
    public func leaveMulticastV6(group: IPAddress, interfaceIndex: UInt32) throws(Errno) {
        try owned.setOption(level: CInt(IPPROTO_IPV6), name: IPV6_DROP_MEMBERSHIP, to: try Self.request(group, interfaceIndex))
    }

    private static func request(_ group: IPAddress, _ interface: IPAddress) throws(Errno) -> ip_mreq {
        guard !group.isIPv6, !interface.isIPv6 else { throw .invalidArgument }
        return ip_mreq(imr_multiaddr: group.inAddr, imr_interface: interface.inAddr)
    }

    private static func request(_ group: IPAddress, _ interfaceIndex: UInt32) throws(Errno) -> ipv6_mreq {
        guard group.isIPv6 else { throw .invalidArgument }
        return ipv6_mreq(ipv6mr_multiaddr: group.in6Addr, ipv6mr_interface: interfaceIndex)
    }

    /// Sets the time-to-live (IPv6: hop limit) of outgoing unicast datagrams.
    public func setTTL(_ ttl: UInt32) throws(Errno) {
        try owned.setTimeToLive(ttl)
    }

    /// The time-to-live (IPv6: hop limit) of outgoing unicast datagrams.
    public func ttl() throws(Errno) -> UInt32 {
        try owned.timeToLive()
    }

    /// Whether an IPv6 socket refuses IPv4-mapped traffic (`IPV6_V6ONLY`). On an IPv4 socket the
    /// option does not exist and the kernel's error is thrown.
    public func onlyIPv6() throws(Errno) -> Bool {
        try owned.flag(level: CInt(IPPROTO_IPV6), name: IPV6_V6ONLY)
    }

    /// Reads and clears the pending error (`SO_ERROR`), such as `Errno.connectionRefused` after
    /// a connected send reached a closed port. A failing read of it returns its own error
    /// (`Errno.badFileDescriptor` once closed).
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
