import CLiburing
import Glibc

/// Creates a pipe: bytes written to `sender` come out of `receiver`, in order.
///
/// Both ends are non-blocking and close-on-exec from birth (pipe2), so no child process inherits
/// them by accident and no call waits; register each end with a `Poll` (`sender` for
/// `.writable`, `receiver` for `.readable`). Closing `sender` makes `receiver` read 0 (end of
/// stream); closing `receiver` makes writes throw `Errno.brokenPipe` (never SIGPIPE).
public func makePipe() throws(Errno) -> (sender: PipeSender, receiver: PipeReceiver) {
    var descriptors: (CInt, CInt) = (-1, -1)
    let result = withUnsafeMutableBytes(of: &descriptors) { room in
        rp_pipe2(room.baseAddress!.assumingMemoryBound(to: CInt.self))
    }
    guard result == 0 else { throw Errno(rawValue: errno) }
    return (PipeSender(owned: OwnedDescriptor(descriptors.1)), PipeReceiver(owned: OwnedDescriptor(descriptors.0)))
}

extension OwnedDescriptor {
    /// Turns `O_NONBLOCK` on or off. Pipes only: a socket owned by RingPoll must stay
    /// non-blocking.
    func setNonBlocking(_ on: Bool) throws(Errno) {
        let flags = try systemCall { fcntl($0, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        guard wanted != flags else { return }
        _ = try systemCall { fcntl($0, F_SETFL, wanted) }
    }
}
