import Glibc
import Synchronization
import SystemPackage

/// The descriptor inside every RingPoll socket and pipe, and its registration.
///
/// Three promises rest on it:
/// - I/O never touches a closed, possibly reused, descriptor number: `withDescriptor` counts
///   calls in flight, and `close` waits for them before the number is released.
/// - Closing deregisters first, and tells the backend the file is about to go, so that an
///   io_uring poll does not keep the file open (the peer sees EOF at once, as with epoll).
/// - A descriptor is registered with one `Poll` at a time: another registry gets
///   `Errno.fileExists`, as epoll would answer for the same file.
final class OwnedDescriptor: Sendable {
    /// Bit 0: closed; the rest: the number of I/O calls in flight (counted in steps of 2).
    private let usage = Atomic<Int>(0)
    private let descriptor: CInt
    private let registration = Mutex<Registry?>(nil)

    /// Takes ownership of `descriptor`.
    init(_ descriptor: CInt) {
        self.descriptor = descriptor
    }

    /// Takes ownership of `descriptor` after making it non-blocking and close-on-exec. Closes it
    /// and throws when either flag cannot be set.
    convenience init(adopting descriptor: CInt) throws(Errno) {
        guard descriptor >= 0 else { throw .badFileDescriptor }
        let statusFlags = fcntl(descriptor, F_GETFL)
        let descriptorFlags = fcntl(descriptor, F_GETFD)
        guard statusFlags >= 0, descriptorFlags >= 0,
              fcntl(descriptor, F_SETFL, statusFlags | O_NONBLOCK) == 0,
              fcntl(descriptor, F_SETFD, descriptorFlags | FD_CLOEXEC) == 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(descriptor)
            throw error
        }
        self.init(descriptor)
    }

    var isClosed: Bool { usage.load(ordering: .acquiring) & 1 != 0 }

    /// The number, or -1 once closed.
    var rawValue: CInt { isClosed ? -1 : descriptor }

    /// Runs `body` with the descriptor; throws `Errno.badFileDescriptor` once closed. The
    /// descriptor stays open until `body` returns, even if another thread calls `close`.
    @inline(__always)
    func withDescriptor<Result>(_ body: (CInt) throws(Errno) -> Result) throws(Errno) -> Result {
        let before = usage.add(2, ordering: .acquiring).oldValue
        defer { usage.subtract(2, ordering: .releasing) }
        guard before & 1 == 0 else { throw .badFileDescriptor }
        return try body(descriptor)
    }

    /// Like `withDescriptor`, for system calls that report failure as -1 with `errno`.
    @inline(__always)
    func systemCall<Result: BinaryInteger>(_ body: (CInt) -> Result) throws(Errno) -> Result {
        try withDescriptor { descriptor throws(Errno) in
            while true {
                let result = body(descriptor)
                if result >= 0 { return result }
                if errno != EINTR { throw Errno(rawValue: errno) }
            }
        }
    }

    // MARK: Registration (the `Source` hooks of sockets and pipes)
    //
    // No `withDescriptor` here: `close` takes the registration lock before it can close the
    // descriptor, so under that lock a descriptor not yet marked closed stays open.

    func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try registration.withLock { current throws(Errno) in
            guard !isClosed else { throw Errno.badFileDescriptor }
            if current != nil { throw Errno.fileExists }
            try registry.selector.register(request(descriptor, token, interests, trigger))
            current = registry
        }
    }

    func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try registration.withLock { current throws(Errno) in
            guard current === registry else { throw Errno.noSuchFileOrDirectory }
            guard !isClosed else { throw Errno.badFileDescriptor }
            try registry.selector.reregister(request(descriptor, token, interests, trigger))
        }
    }

    func deregister(_ registry: Registry) throws(Errno) {
        try registration.withLock { current throws(Errno) in
            guard current === registry else { throw Errno.noSuchFileOrDirectory }
            guard !isClosed else { throw Errno.badFileDescriptor }
            try registry.selector.deregister(descriptor: descriptor, ownership: .owned)
            current = nil
        }
    }

    private func request(_ descriptor: CInt, _ token: Token, _ interests: Interest, _ trigger: Trigger) -> RegistrationRequest {
        RegistrationRequest(descriptor: descriptor, token: token, interests: interests, trigger: trigger, ownership: .owned)
    }

    // MARK: Closing

    /// Waits for I/O in flight on other threads, then deregisters and closes. Idempotent.
    func close() throws(Errno) {
        let before = usage.bitwiseOr(1, ordering: .acquiringAndReleasing).oldValue
        guard before & 1 == 0 else { return }
        // I/O calls in flight are non-blocking system calls: they end within microseconds.
        while usage.load(ordering: .acquiring) > 1 {
            sched_yield()
        }
        let closedByBackend = registration.withLock { current -> Bool in
            defer { current = nil }
            guard let registry = current else { return false }
            registry.selector.closeRegistered(descriptor: descriptor)
            return true
        }
        if !closedByBackend, Glibc.close(descriptor) != 0, errno != EINTR {
            throw Errno(rawValue: errno)
        }
    }

    deinit {
        try? close()
    }
}
