import CLiburing
import Glibc

/// The socket system calls every RingPoll socket type shares: creation, binding, connecting,
/// accepting, addresses and shutdown. Each runs through `withDescriptor`/`systemCall`, so none
/// can reach a descriptor number that was closed (and perhaps reused) meanwhile.
extension OwnedDescriptor {
    /// The flags that make a descriptor non-blocking and close-on-exec in the same call that
    /// creates it: no other thread's `fork`/`exec` can inherit it, and no call on it can block.
    private static let creationFlags = CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)

    /// A new socket of `domain` and `type` (`SOCK_STREAM`, `SOCK_DGRAM`).
    static func socket(domain: CInt, type: __socket_type) throws(Errno) -> OwnedDescriptor {
        while true {
            let descriptor = Glibc.socket(domain, CInt(type.rawValue) | creationFlags, 0)
            if descriptor >= 0 { return OwnedDescriptor(descriptor) }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }

    /// Two connected Unix sockets of `type`, as numbers for the caller to own (a tuple cannot
    /// hold non-copyable values).
    static func socketPair(type: __socket_type) throws(Errno) -> (CInt, CInt) {
        var descriptors: (CInt, CInt) = (-1, -1)
        let result = withUnsafeMutableBytes(of: &descriptors) { room in
            socketpair(AF_UNIX, CInt(type.rawValue) | creationFlags, 0, room.baseAddress!.assumingMemoryBound(to: CInt.self))
        }
        guard result == 0 else { throw Errno(rawValue: errno) }
        return descriptors
    }

    func bind(to address: some NativeAddress) throws(Errno) {
        try withDescriptor { descriptor throws(Errno) in
            try address.withNative { native, length throws(Errno) in
                if Glibc.bind(descriptor, native, length) != 0 { throw Errno(rawValue: errno) }
            }
        }
    }

    func listen(backlog: CInt) throws(Errno) {
        _ = try systemCall { Glibc.listen($0, backlog) }
    }

    /// Starts connecting. A non-blocking connect that is still under way (`EINPROGRESS`, or a
    /// signal interrupting it, after which it goes on in the background) counts as success: the
    /// socket becomes writable when it finishes, and `takeError()` then tells the outcome.
    func connect(to address: some NativeAddress) throws(Errno) {
        try withDescriptor { descriptor throws(Errno) in
            let result = try address.withNative { native, length throws(Errno) in
                Glibc.connect(descriptor, native, length)
            }
            guard result != 0 else { return }
            let error = errno
            guard error == EINPROGRESS || error == EINTR else { throw Errno(rawValue: error) }
        }
    }

    /// Accepts one pending connection; the new descriptor is non-blocking and close-on-exec
    /// from birth (accept4), returned as a number for the caller to own. Throws
    /// `Errno.wouldBlock` when none is pending.
    func accept<Address: NativeAddress>(_: Address.Type) throws(Errno) -> (CInt, Address) {
        let (descriptor, address) = try Address.receiving { native, length throws(Errno) in
            try systemCall { rp_accept4($0, native, length) }
        }
        return (descriptor, address)
    }

    /// The address this socket is bound to (getsockname).
    func localAddress<Address: NativeAddress>(_: Address.Type) throws(Errno) -> Address {
        try Address.receiving { native, length throws(Errno) in
            _ = try systemCall { getsockname($0, native, length) }
        }.1
    }

    /// The address of the connected peer (getpeername); `Errno.socketNotConnected` when there is none.
    func peerAddress<Address: NativeAddress>(_: Address.Type) throws(Errno) -> Address {
        try Address.receiving { native, length throws(Errno) in
            _ = try systemCall { getpeername($0, native, length) }
        }.1
    }

    func shutdown(_ how: Shutdown) throws(Errno) {
        _ = try systemCall { Glibc.shutdown($0, how.how) }
    }
}
