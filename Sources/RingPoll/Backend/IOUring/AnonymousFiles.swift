import CLiburing
import Glibc
import SystemPackage

/// Tells whether a descriptor number still names the anonymous-inode file registered under it.
///
/// eventfd, timerfd and signalfd files share one inode, so `FileIdentity` cannot tell the
/// registered file from a new one that took its closed number. epoll can: it keys its items by
/// open file and number, so adding a number a second time fails with EEXIST only while it names
/// the very file it was added with. The io_uring backend keeps such an epoll instance (created
/// on first use, never waited on, no events asked for) with one item per registered
/// anonymous-inode descriptor. An item goes by itself when its file is finally closed.
struct AnonymousFiles: ~Copyable {
    private var epoll: CInt = -1

    init() {}

    deinit {
        if epoll >= 0 { Glibc.close(epoll) }
    }

    /// Starts tracking the file `descriptor` names now. Returns false when that very file is
    /// tracked already.
    mutating func track(_ descriptor: CInt) throws(Errno) -> Bool {
        if epoll < 0 {
            let created = rp_epoll_create()
            guard created >= 0 else { throw Errno(rawValue: -created) }
            epoll = created
        }
        let added = rp_epoll_ctl(epoll, RP_EPOLL_ADD, descriptor, 0, 0)
        if added == -EEXIST { return false }
        guard added == 0 else { throw Errno(rawValue: -added) }
        return true
    }

    /// Whether `descriptor` names the tracked file (and not a new one that reused the number).
    mutating func isTracked(_ descriptor: CInt) throws(Errno) -> Bool {
        guard try track(descriptor) else { return true }
        forget(descriptor)  // a new file: leave it untracked
        return false
    }

    /// Closes the epoll instance (the selector is closing).
    mutating func close() {
        if epoll >= 0 { Glibc.close(epoll) }
        epoll = -1
    }

    /// Stops tracking the file `descriptor` names now; nothing when that is another file.
    func forget(_ descriptor: CInt) {
        if epoll >= 0 { _ = rp_epoll_ctl(epoll, RP_EPOLL_DEL, descriptor, 0, 0) }
    }
}
