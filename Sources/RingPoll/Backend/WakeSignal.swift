import CLiburing
import Glibc
import SystemPackage

/// An eventfd that other threads write to wake a sleeping poller. Both backends watch it with an
/// edge-triggered poll, so every write wakes the poller even though nobody ever reads the count:
/// the poller never pays a read for an internal wake-up.
struct WakeSignal: ~Copyable {
    let descriptor: CInt

    init() throws(Errno) {
        let fd = rp_eventfd()
        guard fd >= 0 else { throw Errno(rawValue: -fd) }
        descriptor = fd
    }

    /// Makes the descriptor readable (again). Only when the counter is about to overflow, after
    /// 2^64-2 signals, does a write fail with EAGAIN; then the count is read back to zero.
    func signal() {
        var one: UInt64 = 1
        while write(descriptor, &one, 8) < 0 {
            if errno == EAGAIN {
                var count: UInt64 = 0
                _ = read(descriptor, &count, 8)
            } else if errno != EINTR {
                return
            }
        }
    }

    deinit {
        Glibc.close(descriptor)
    }
}
