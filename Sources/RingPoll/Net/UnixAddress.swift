import Glibc

/// The address of a Unix domain socket: a filesystem path, a Linux abstract name, or nothing
/// (unnamed: an unbound socket, or either end of a socket pair).
///
/// The bytes are kept exactly as the kernel has them, so an address read from a socket compares
/// equal to the one it was bound with, whatever its encoding.
public struct UnixAddress: Hashable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case path([UInt8])
        case abstract([UInt8])
        case unnamed
    }

    let kind: Kind

    /// The room for a name in `sockaddr_un.sun_path`.
    static let capacity = 108

    init(kind: Kind) {
        self.kind = kind
    }

    /// A filesystem path, as for `UnixListener.bind`.
    ///
    /// The path and its terminating NUL must fit in the kernel's 108-byte `sun_path`; a longer one
    /// throws `Errno.fileNameTooLong` here, rather than being cut to a different, valid path. An
    /// empty path or one containing NUL throws `Errno.invalidArgument` (the kernel would read
    /// either as another kind of address).
    public init(path: String) throws(Errno) {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, !bytes.contains(0) else { throw .invalidArgument }
        guard bytes.count < Self.capacity else { throw .fileNameTooLong }
        kind = .path(bytes)
    }

    /// A Linux abstract name: a socket address outside the filesystem, gone when the last socket
    /// using it closes, so there is no file to clean up. Pass the name without the leading NUL
    /// the kernel uses to tell it apart; at most 107 bytes (else `Errno.fileNameTooLong`).
    public init(abstract name: String) throws(Errno) {
        let bytes = Array(name.utf8)
        guard bytes.count < Self.capacity else { throw .fileNameTooLong }
        kind = .abstract(bytes)
    }

    /// The filesystem path, or `nil` for an abstract or unnamed address.
    public var path: String? {
        guard case .path(let bytes) = kind else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The abstract name (without its leading NUL), or `nil` for a path or unnamed address.
    public var abstractName: String? {
        guard case .abstract(let bytes) = kind else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether the socket has no address: unbound, a socket pair end, or a peer that connected
    /// without binding (the usual case for a client accepted by a `UnixListener`).
    public var isUnnamed: Bool { kind == .unnamed }

    /// The path; `@name` for an abstract name (the notation of `ss` and `netstat`);
    /// `(unnamed)` for no address.
    public var description: String {
        switch kind {
        case .path(let bytes): String(decoding: bytes, as: UTF8.self)
        case .abstract(let bytes): "@" + String(decoding: bytes, as: UTF8.self)
        case .unnamed: "(unnamed)"
        }
    }
}

extension UnixAddress: NativeAddress {
    private static let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!

    func withNative<Result>(
        _ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> Result
    ) throws(Errno) -> Result {
        var native = sockaddr_un()
        native.sun_family = sa_family_t(AF_UNIX)
        let nameLength = withUnsafeMutableBytes(of: &native.sun_path) { room -> Int in
            switch kind {
            case .path(let bytes):
                room.copyBytes(from: bytes)  // sockaddr_un() is zeroed: the terminator is there
                return bytes.count + 1
            case .abstract(let bytes):
                room[0] = 0
                UnsafeMutableRawBufferPointer(rebasing: room[1...]).copyBytes(from: bytes)
                return bytes.count + 1
            case .unnamed:
                return 0
            }
        }
        let length = socklen_t(Self.pathOffset + nameLength)
        return try withUnsafePointer(to: &native) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                try body(address, length)
            }
        }
    }

    init(native address: UnsafePointer<sockaddr>, length: socklen_t) throws(Errno) {
        // recvfrom reports an unbound sender with length 0, without even writing the family.
        let nameLength = min(Int(length) - Self.pathOffset, Self.capacity)
        guard nameLength > 0 else {
            self.init(kind: .unnamed)
            return
        }
        guard CInt(address.pointee.sa_family) == AF_UNIX else { throw .addressFamilyNotSupported }
        let name = UnsafeRawBufferPointer(
            start: UnsafeRawPointer(address) + Self.pathOffset, count: nameLength)
        if name[0] == 0 {
            self.init(kind: .abstract(Array(name[1...])))
        } else {
            // The kernel may or may not count the terminator; a path ends at the first NUL.
            let end = name.firstIndex(of: 0) ?? name.endIndex
            self.init(kind: .path(Array(name[..<end])))
        }
    }
}
