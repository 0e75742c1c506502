import Glibc

/// An IPv4 or IPv6 address, without a port.
///
/// A value type rather than a `sockaddr` so that addresses can be compared, hashed and printed
/// without touching C structures; the conversion happens only at the system call.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4 as a host-order number; IPv6 as its 16 bytes read big-endian into two halves, so that
    /// equality and hashing are plain integer operations.
    enum Storage: Hashable, Sendable {
        case v4(UInt32)
        case v6(high: UInt64, low: UInt64)
    }

    let storage: Storage

    init(storage: Storage) {
        self.storage = storage
    }

    /// Parses dotted-quad IPv4 (`127.0.0.1`) or IPv6 text (`::1`, `fe80::1`, `::ffff:1.2.3.4`).
    ///
    /// Only the canonical textual forms are accepted — no brackets, zone suffixes, octal or
    /// shortened IPv4 (`127.1`), surrounding spaces or embedded NULs — because an address that
    /// parses loosely can silently name another host. Anything else throws `Errno.invalidArgument`.
    public init(_ string: String) throws(Errno) {
        // inet_pton reads a C string: refuse everything that is not address syntax first, so an
        // embedded NUL cannot cut the text short and leave a valid prefix.
        var sawColon = false
        for unit in string.utf8 {
            switch unit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."): break
            case UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): break
            case UInt8(ascii: ":"): sawColon = true
            default: throw .invalidArgument
            }
        }
        guard !string.isEmpty, string.utf8.count <= 45 else { throw .invalidArgument }
        if sawColon {
            var address = in6_addr()
            guard inet_pton(AF_INET6, string, &address) == 1 else { throw .invalidArgument }
            self.init(address)
        } else {
            var address = in_addr()
            guard inet_pton(AF_INET, string, &address) == 1 else { throw .invalidArgument }
            self.init(address)
        }
    }

    /// `127.0.0.1`, the usual address for tests and local services.
    public static let loopbackV4 = IPAddress(storage: .v4(0x7F00_0001))
    /// `::1`.
    public static let loopbackV6 = IPAddress(storage: .v6(high: 0, low: 1))
    /// `0.0.0.0`: binding to it accepts traffic on every IPv4 interface.
    public static let anyV4 = IPAddress(storage: .v4(0))
    /// `::`: binding to it accepts traffic on every IPv6 interface (and IPv4 too, unless the socket
    /// is IPv6-only).
    public static let anyV6 = IPAddress(storage: .v6(high: 0, low: 0))

    /// Whether this is an IPv6 address; decides the socket family RingPoll creates for it.
    public var isIPv6: Bool {
        if case .v6 = storage { return true }
        return false
    }

    /// `127.0.0.0/8` for IPv4, only `::1` for IPv6 (as Rust's `IpAddr::is_loopback`: an
    /// IPv4-mapped `::ffff:127.0.0.1` is not loopback).
    public var isLoopback: Bool {
        switch storage {
        case .v4(let value): value >> 24 == 127
        case .v6(let high, let low): high == 0 && low == 1
        }
    }

    /// `a.b.c.d`, or IPv6 in the RFC 5952 form (lowercase, longest zero run as `::`), which
    /// `init(_:)` parses back to the same value.
    public var description: String {
        // INET6_ADDRSTRLEN is 46 bytes including the terminator.
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 46) { text in
            let written: UnsafePointer<CChar>? = switch storage {
            case .v4:
                withUnsafePointer(to: inAddr) { inet_ntop(AF_INET, $0, text.baseAddress, 46) }
            case .v6:
                withUnsafePointer(to: in6Addr) { inet_ntop(AF_INET6, $0, text.baseAddress, 46) }
            }
            return written.map { String(cString: $0) } ?? "?"
        }
    }

    // MARK: C conversions

    init(_ address: in_addr) {
        storage = .v4(UInt32(bigEndian: address.s_addr))
    }

    init(_ address: in6_addr) {
        let (high, low) = withUnsafeBytes(of: address) { bytes in
            (UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        storage = .v6(high: high, low: low)
    }

    /// The IPv4 address in network order; `INADDR_ANY` for an IPv6 address.
    var inAddr: in_addr {
        guard case .v4(let value) = storage else { return in_addr() }
        return in_addr(s_addr: value.bigEndian)
    }

    /// The IPv6 address; for an IPv4 address its IPv4-mapped form (`::ffff:a.b.c.d`).
    var in6Addr: in6_addr {
        var address = in6_addr()
        let (high, low): (UInt64, UInt64) = switch storage {
        case .v4(let value): (0, 0x0000_FFFF_0000_0000 | UInt64(value))
        case .v6(let high, let low): (high, low)
        }
        withUnsafeMutableBytes(of: &address) { bytes in
            bytes.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            bytes.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return address
    }
}
