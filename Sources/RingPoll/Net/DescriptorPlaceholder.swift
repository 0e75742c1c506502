import Glibc
import Synchronization

/// A dead socket whose duplicates stand in for closed descriptors that must keep their number.
///
/// A stream closed by one thread while another thread may be inside an uncounted call on it
/// (see `OwnedDescriptor`) cannot give its number back to the kernel: the number could be
/// reused by a new file before that call reaches it. `dup2` of the placeholder over the number
/// releases the real file at once (the peer sees the close, as with close(2)) and keeps the
/// number taken until the owning object goes away. A call that still reaches it finds a socket
/// whose peer is gone: reads return end of stream, writes fail with `EPIPE`, accept fails, and
/// nothing ever blocks. The caller turns any such outcome into `Errno.badFileDescriptor`.
enum DescriptorPlaceholder {
    /// -1 until made; made on first use, and never closed.
    private static let shared = Atomic<CInt>(-1)

    /// Releases the file behind `descriptor` and leaves the number pointing at the placeholder.
    /// Returns false when no placeholder can be made (descriptors exhausted): the file then
    /// stays open until the number is closed.
    static func cover(_ descriptor: CInt) -> Bool {
        guard let placeholder = descriptorForCovering() else { return false }
        while dup2(placeholder, descriptor) < 0 {
            if errno != EINTR && errno != EBUSY { return false }
        }
        return true
    }

    /// The placeholder's file, once made; tests tell a covered number by it.
    static var identity: FileIdentity? {
        let existing = shared.load(ordering: .acquiring)
        return existing >= 0 ? try? FileIdentity.of(existing) : nil
    }

    private static func descriptorForCovering() -> CInt? {
        let existing = shared.load(ordering: .acquiring)
        if existing >= 0 { return existing }
        var pair: (CInt, CInt) = (-1, -1)
        let made = withUnsafeMutableBytes(of: &pair) { room in
            socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0,
                       room.baseAddress!.assumingMemoryBound(to: CInt.self))
        }
        guard made == 0 else { return nil }
        Glibc.close(pair.1)
        Glibc.shutdown(pair.0, CInt(SHUT_RDWR))
        let (exchanged, winner) = shared.compareExchange(expected: -1, desired: pair.0, ordering: .acquiringAndReleasing)
        if exchanged { return pair.0 }
        Glibc.close(pair.0)  // another thread made one first
        return winner
    }
}
