import Glibc
import RingPoll

/// Makes listening sockets with the options `TCPListener.bind` does not take (SO_REUSEPORT, the
/// backlog), then hands them to RingPoll (`init(adopting:)`), which makes them non-blocking and
/// close-on-exec.
enum ListeningSocket {
    static func tcp(_ address: SocketAddress, reusePort: Bool, backlog: Int) throws(Errno) -> TCPListener {
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Errno(rawValue: errno) }
        do throws(Errno) {
            try setFlag(descriptor, SO_REUSEADDR)
            if reusePort { try setFlag(descriptor, SO_REUSEPORT) }
            try bind(descriptor, address)
            guard listen(descriptor, CInt(clamping: backlog)) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            Glibc.close(descriptor)
            throw error
        }
        return try TCPListener(adopting: descriptor)
    }

    private static func setFlag(_ descriptor: CInt, _ option: CInt) throws(Errno) {
        var on: CInt = 1
        guard setsockopt(descriptor, SOL_SOCKET, option, &on, socklen_t(MemoryLayout<CInt>.size)) == 0 else {
            throw Errno(rawValue: errno)
        }
    }

    /// bind(2) with `address` as a `sockaddr` (from its text form: RingPoll keeps the C
    /// conversion internal, and binding is not a hot path).
    private static func bind(_ descriptor: CInt, _ address: SocketAddress) throws(Errno) {
        let host = address.ip.description
        let result: CInt
        if address.isIPv6 {
            var native = sockaddr_in6()
            native.sin6_family = sa_family_t(AF_INET6)
            native.sin6_port = address.port.bigEndian
            guard inet_pton(AF_INET6, host, &native.sin6_addr) == 1 else { throw .invalidArgument }
            result = withUnsafePointer(to: &native) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var native = sockaddr_in()
            native.sin_family = sa_family_t(AF_INET)
            native.sin_port = address.port.bigEndian
            guard inet_pton(AF_INET, host, &native.sin_addr) == 1 else { throw .invalidArgument }
            result = withUnsafePointer(to: &native) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard result == 0 else { throw Errno(rawValue: errno) }
    }
}
