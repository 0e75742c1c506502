import Glibc

/// getsockopt/setsockopt for the options RingPoll's socket types expose, plus `SO_ERROR`.
extension OwnedDescriptor {
    /// An option the kernel stores as an `int` (all the ones RingPoll reads are).
    func option(level: CInt, name: CInt) throws(Errno) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        _ = try systemCall { getsockopt($0, level, name, &value, &length) }
        return value
    }

    func setOption<Value>(level: CInt, name: CInt, to value: Value) throws(Errno) {
        try withUnsafeBytes(of: value) { bytes throws(Errno) in
            _ = try systemCall { setsockopt($0, level, name, bytes.baseAddress, socklen_t(bytes.count)) }
        }
    }

    /// A boolean option, stored by the kernel as an `int`.
    func flag(level: CInt, name: CInt) throws(Errno) -> Bool {
        try option(level: level, name: name) != 0
    }

    func setFlag(level: CInt, name: CInt, to on: Bool) throws(Errno) {
        try setOption(level: level, name: name, to: CInt(on ? 1 : 0))
    }

    /// Reads and clears the pending socket error (`SO_ERROR`); a failing getsockopt (a closed
    /// socket, for one) returns its own errno, so the caller always learns something is wrong.
    func takeError() -> Errno? {
        do throws(Errno) {
            let value = try option(level: SOL_SOCKET, name: SO_ERROR)
            return value == 0 ? nil : Errno(rawValue: value)
        } catch {
            return error
        }
    }

    /// Whether this is an IPv6 socket (`SO_DOMAIN`); adopted sockets carry no family otherwise.
    func isIPv6() throws(Errno) -> Bool {
        try option(level: SOL_SOCKET, name: SO_DOMAIN) == AF_INET6
    }

    /// The unicast time-to-live: `IP_TTL` on IPv4 sockets, `IPV6_UNICAST_HOPS` on IPv6 ones
    /// (IP_TTL on an IPv6 socket would only affect IPv4-mapped traffic).
    func timeToLive() throws(Errno) -> UInt32 {
        let value = try isIPv6()
            ? option(level: CInt(IPPROTO_IPV6), name: IPV6_UNICAST_HOPS)
            : option(level: CInt(IPPROTO_IP), name: IP_TTL)
        return UInt32(truncatingIfNeeded: value)
    }

    func setTimeToLive(_ ttl: UInt32) throws(Errno) {
        guard let value = CInt(exactly: ttl) else { throw .invalidArgument }
        if try isIPv6() {
            try setOption(level: CInt(IPPROTO_IPV6), name: IPV6_UNICAST_HOPS, to: value)
        } else {
            try setOption(level: CInt(IPPROTO_IP), name: IP_TTL, to: value)
        }
    }
}
