import CLiburing
import Glibc

/// A connected non-blocking AF_UNIX stream pair made with raw system calls (the core tests do not
/// depend on RingPoll's socket types). Both ends close when the value goes away.
final class SocketPair: @unchecked Sendable {  // immutable descriptors; tests hand pairs to threads
    let local: CInt
    let peer: CInt
    private var closedLocal = false

    init(type: Int32 = Int32(SOCK_STREAM.rawValue)) {
        var fds: [CInt] = [-1, -1]
        let result = socketpair(AF_UNIX, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        precondition(result == 0, "socketpair failed: \(errno)")
        local = fds[0]
        peer = fds[1]
    }

    /// Writes `count` bytes from the peer, so `local` becomes readable.
    func send(_ count: Int = 1, fromPeer: Bool = true) {
        let written = trySend(count, fromPeer: fromPeer)
        precondition(written == count, "send failed: \(errno)")
    }

    /// Like `send`, for when the other end may be gone: returns what `send(2)` returned.
    @discardableResult
    func trySend(_ count: Int = 1, fromPeer: Bool = true) -> Int {
        let bytes = [UInt8](repeating: 7, count: count)
        return Glibc.send(fromPeer ? peer : local, bytes, count, Int32(MSG_NOSIGNAL))
    }

    /// Reads everything `local` holds; returns the byte count.
    @discardableResult
    func drain() -> Int {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(local, &buffer, buffer.count)
            if count <= 0 { return total }
            total += count
        }
    }

    /// Closes `local` early (the peer sees EOF once nothing holds the file).
    func closeLocal() {
        guard !closedLocal else { return }
        closedLocal = true
        close(local)
    }

    deinit {
        if !closedLocal { close(local) }
        close(peer)
    }
}

/// An eventfd that starts readable (count 1): the cheapest always-ready source.
final class ReadyEventFD: @unchecked Sendable {
    let fd: CInt

    init(count: UInt32 = 1) {
        fd = rp_eventfd()
        precondition(fd >= 0, "eventfd failed: \(-fd)")
        var initial = UInt64(count)
        if count > 0 { _ = write(fd, &initial, 8) }
    }

    func signal() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    func reset() {
        var count: UInt64 = 0
        _ = read(fd, &count, 8)
    }

    deinit { close(fd) }
}

/// dup(2) with close-on-exec: a plain dup is inherited by every child process the suite spawns
/// meanwhile (the examples, the fuzzer), which then holds the file open and hides its close.
func duplicateCloseOnExec(_ fd: CInt) -> CInt {
    fcntl(fd, F_DUPFD_CLOEXEC, 0)
}

/// A descriptor number that is not open (closed right away; high enough not to be reused soon).
func closedDescriptorNumber() -> CInt {
    let fd = duplicateCloseOnExec(0)
    precondition(fd >= 0)
    let high = fcntl(fd, F_DUPFD_CLOEXEC, 900_000 + Int32.random(in: 0..<50_000))
    close(fd)
    if high >= 0 { close(high); return high }
    return 999_999
}
