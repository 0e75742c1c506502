import Glibc

/// An IP address and port: where a TCP or UDP socket is bound or connected.
///
/// The text form is exactly `a.b.c.d:port` or `[v6]:port` in both directions, so an address can be
/// logged, put in a configuration file and read back to the same value.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The host part.
    public var ip: IPAddress
    /// The port, in host byte order (RingPoll converts at the system call).
    public var port: UInt16

    /// Combines an address and a port; port 0 asks the kernel to pick a free port on `bind`.
    public init(ip: IPAddress, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Parses `127.0.0.1:80` or `[::1]:80`.
    ///
    /// The port is required and an IPv6 host must be in brackets (otherwise its colons and the
    /// port's would be ambiguous). Host names are not resolved: resolving would block, which a
    /// readiness library must never do behind the caller's back. Anything else throws
    /// `Errno.invalidArgument`.
    public init(_ string: String) throws(Errno) {
        let text = string.utf8
        guard let colon = text.lastIndex(of: UInt8(ascii: ":")) else { throw .invalidArgument }
        let port = try Self.parsePort(text[text.index(after: colon)...])
        let host = text[..<colon]
        let ip: IPAddress
        if host.first == UInt8(ascii: "[") {
            guard host.count >= 2, host.last == UInt8(ascii: "]") else { throw .invalidArgument }
            let inner = host.dropFirst().dropLast()
            ip = try IPAddress(String(decoding: inner, as: UTF8.self))
            guard ip.isIPv6 else { throw .invalidArgument }
        } else {
            guard !host.contains(UInt8(ascii: ":")) else { throw .invalidArgument }
            ip = try IPAddress(String(decoding: host, as: UTF8.self))
            guard !ip.isIPv6 else { throw .invalidArgument }
        }
        self.init(ip: ip, port: port)
    }

    /// One to five ASCII digits with a value of at most 65535; no sign, no spaces.
    private static func parsePort(_ digits: Substring.UTF8View) throws(Errno) -> UInt16 {
        guard (1...5).contains(digits.count) else { throw .invalidArgument }
        var value = 0
        for unit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(unit) else { throw .invalidArgument }
            value = value * 10 + Int(unit - UInt8(ascii: "0"))
        }
        guard value <= Int(UInt16.max) else { throw .invalidArgument }
        return UInt16(value)
    }

    /// Whether the host is IPv6; decides the family of the socket RingPoll creates for it.
    public var isIPv6: Bool { ip.isIPv6 }

    /// Whether the host is a loopback address (see `IPAddress.isLoopback`).
    public var isLoopback: Bool { ip.isLoopback }

    /// `a.b.c.d:port` or `[v6]:port`; `init(_:)` parses it back to the same value.
    public var description: String {
        ip.isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

extension SocketAddress: NativeAddress {
    func withNative<Result>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> Result
    ) throws(Errno) -> Result {
        switch ip.storage {
        case .v4:
            var native = sockaddr_in()
            native.sin_family = sa_family_t(AF_INET)
            native.sin_port = port.bigEndian
            native.sin_addr = ip.inAddr
            return try withUnsafePointer(to: &native) { pointer throws(Errno) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                    try body(address, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6:
            var native = sockaddr_in6()
            native.sin6_family = sa_family_t(AF_INET6)
            native.sin6_port = port.bigEndian
            native.sin6_addr = ip.in6Addr
            return try withUnsafePointer(to: &native) { pointer throws(Errno) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                    try body(address, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    init(native address: UnsafePointer<sockaddr>, length: socklen_t) throws(Errno) {
        switch CInt(address.pointee.sa_family) {
        case AF_INET where Int(length) >= MemoryLayout<sockaddr_in>.size:
            let native = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            self.init(ip: IPAddress(native.sin_addr), port: UInt16(bigEndian: native.sin_port))
        case AF_INET6 where Int(length) >= MemoryLayout<sockaddr_in6>.size:
            let native = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            self.init(ip: IPAddress(native.sin6_addr), port: UInt16(bigEndian: native.sin6_port))
        default:
            throw .addressFamilyNotSupported
        }
    }

    /// The socket family for this address.
    var family: CInt { ip.isIPv6 ? AF_INET6 : AF_INET }
}
