import Glibc

/// The bridge between RingPoll's address values and the kernel's `sockaddr` structures, shared by
/// IP and Unix addresses so that bind, connect, accept and the datagram calls are written once.
///
/// Conversions happen on the stack inside a non-escaping closure: sending to an address or reading
/// the sender of a datagram allocates nothing.
protocol NativeAddress: Sendable {
    /// Calls `body` with this address as a `sockaddr` and its length.
    func withNative<Result>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> Result
    ) throws(Errno) -> Result

    /// Reads an address the kernel wrote (`length` bytes at `address`).
    init(native address: UnsafePointer<sockaddr>, length: socklen_t) throws(Errno)
}

extension NativeAddress {
    /// Runs `fill` with room for any socket address and its in-out length, the way accept,
    /// getsockname and recvfrom report one, then decodes what the kernel wrote.
    static func receiving<Result>(
        _ fill: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) throws(Errno) -> Result
    ) throws(Errno) -> (Result, Self) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return try withUnsafeMutablePointer(to: &storage) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                let result = try fill(address, &length)
                return (result, try Self(native: address, length: length))
            }
        }
    }
}
