import Glibc
import SystemPackage

/// Which open file a descriptor number refers to right now.
///
/// RingPoll remembers the identity of every borrowed descriptor it registers. When the same
/// number comes back and the identity differs, the number was closed and reused, and the old
/// registration is stale rather than a duplicate. Sockets and pipes have an inode each; anonymous
/// inode files (eventfd, timerfd, signalfd) share one, so for them a reused number cannot be told
/// from a duplicate by identity alone.
struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    /// An anonymous-inode file (eventfd, timerfd, signalfd): its device and inode are those of
    /// every other such file, so they do not identify it (see `AnonymousFiles`).
    var isAnonymous = false

    /// The identity of the file open at `descriptor`. Throws `Errno.badFileDescriptor` when the
    /// number is not open and `Errno.notPermitted` for files that cannot be polled for readiness
    /// (regular files and directories), as `epoll_ctl` does.
    static func of(_ descriptor: CInt) throws(Errno) -> FileIdentity {
        guard descriptor >= 0 else { throw .badFileDescriptor }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Errno(rawValue: errno) }
        let type = info.st_mode & S_IFMT
        if type == S_IFREG || type == S_IFDIR { throw .notPermitted }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), isAnonymous: type == 0)
    }
}
