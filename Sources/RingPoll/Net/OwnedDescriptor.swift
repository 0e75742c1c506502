import Glibc
import Synchronization
import SystemPackage

/// The descriptor inside every RingPoll socket and pipe, and its registration.
///
/// Three promises rest on it:
/// - I/O never touches a closed, possibly reused, descriptor number (see "Closing" below).
/// - Closing deregisters first, and tells the backend the file is about to go, so that an
///   io_uring poll does not keep the file open (the peer sees EOF at once, as with epoll).
/// - A descriptor is registered with one `Poll` at a time: another registry gets
///   `Errno.fileExists`, as epoll would answer for the same file.
///
/// Calls cost what the system call costs. The first thread that does I/O becomes the owner:
/// its calls check the closed flag with plain loads, no atomic read-modify-write, no lock (the
/// raw C loop has none either). Calls from any other thread are counted in flight, so that a
/// close can wait for them. A close from the owner thread (or with no owner yet) therefore gives
/// the number back at once; a close from another thread cannot know whether the owner is inside
/// a call, so it releases the file through `DescriptorPlaceholder` and gives the number back when
/// the socket goes away.
///
/// It is a non-copyable struct stored inline in the socket object, not an object of its own: a
/// call reaches the descriptor and its flags within the first 64 bytes of the socket object it
/// already holds (one pointer chase and one allocation less per socket than a separate object).
struct OwnedDescriptor: ~Copyable, Sendable {
    /// Bit 0: closed; the rest: the number of non-owner calls in flight (counted in steps of 2).
    private let usage = Atomic<Int>(0)
    /// The owner thread's `pthread_self()`, 0 until a thread does I/O. A recycled value can only
    /// belong to a thread started after the owner ended, which then rightly owns its calls.
    private let ownerThread = Atomic<UInt>(0)
    /// The number is held by the placeholder after a close from a non-owner thread; the file is
    /// released, the number is closed by `deinit`.
    private let holdsPlaceholder = Atomic<Bool>(false)
    private let descriptor: CInt
    private let registration = Mutex(Registration())

    /// Which registry holds the descriptor. The registry is kept after `deregister`, so that
    /// registering with it again (a register/deregister loop) costs no retain and release; it is
    /// replaced when another registry takes the descriptor, and let go by `close`.
    private struct Registration {
        var registry: Registry?
        var isRegistered = false

        func isRegistered(with candidate: Registry) -> Bool {
            isRegistered && registry === candidate
        }
    }

    /// Takes ownership of `descriptor`.
    init(_ descriptor: CInt) {
        self.descriptor = descriptor
    }

    /// Takes ownership of `descriptor` after making it non-blocking and close-on-exec. Closes it
    /// and throws when either flag cannot be set.
    init(adopting descriptor: CInt) throws(Errno) {
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

    @inline(__always)
    private static var currentThread: UInt { UInt(pthread_self()) }

    /// Runs `body` with the descriptor; throws `Errno.badFileDescriptor` once closed, also when
    /// another thread closed it while `body` ran (whatever `body` then found under the number
    /// is not the file any more). The number is never given back while `body` runs.
    @inline(__always)
    func withDescriptor<Result>(_ body: (CInt) throws(Errno) -> Result) throws(Errno) -> Result {
        guard ownerThread.load(ordering: .relaxed) == OwnedDescriptor.currentThread else {
            return try withDescriptorOffOwner(body)
        }
        guard usage.load(ordering: .relaxed) & 1 == 0 else { throw .badFileDescriptor }
        return try runChecked(body)
    }

    /// `body`, with its outcome replaced by `Errno.badFileDescriptor` when a close happened
    /// meanwhile.
    @inline(__always)
    private func runChecked<Result>(_ body: (CInt) throws(Errno) -> Result) throws(Errno) -> Result {
        let result: Result
        do throws(Errno) {
            result = try body(descriptor)
        } catch {
            throw isClosed ? .badFileDescriptor : error
        }
        if isClosed { throw .badFileDescriptor }
        return result
    }

    /// The first call of all makes its thread the owner; calls of other threads are counted.
    private func withDescriptorOffOwner<Result>(_ body: (CInt) throws(Errno) -> Result) throws(Errno) -> Result {
        let current = OwnedDescriptor.currentThread
        if ownerThread.load(ordering: .relaxed) == 0,
           ownerThread.compareExchange(expected: 0, desired: current, ordering: .sequentiallyConsistent).exchanged {
            // Either `close` sees this owner (and keeps the number), or this load sees the close.
            guard usage.load(ordering: .sequentiallyConsistent) & 1 == 0 else { throw .badFileDescriptor }
            return try runChecked(body)
        }
        let before = usage.add(2, ordering: .sequentiallyConsistent).oldValue
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
            if current.isRegistered { throw Errno.fileExists }
            try registry.selector.register(request(descriptor, token, interests, trigger))
            if current.registry !== registry { current.registry = registry }
            current.isRegistered = true
        }
    }

    func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try registration.withLock { current throws(Errno) in
            guard current.isRegistered(with: registry) else { throw Errno.noSuchFileOrDirectory }
            guard !isClosed else { throw Errno.badFileDescriptor }
            try registry.selector.reregister(request(descriptor, token, interests, trigger))
        }
    }

    func deregister(_ registry: Registry) throws(Errno) {
        try registration.withLock { current throws(Errno) in
            guard current.isRegistered(with: registry) else { throw Errno.noSuchFileOrDirectory }
            guard !isClosed else { throw Errno.badFileDescriptor }
            try registry.selector.deregister(descriptor: descriptor, ownership: .owned)
            current.isRegistered = false
        }
    }

    private func request(_ descriptor: CInt, _ token: Token, _ interests: Interest, _ trigger: Trigger) -> RegistrationRequest {
        RegistrationRequest(descriptor: descriptor, token: token, interests: interests, trigger: trigger, ownership: .owned)
    }

    // MARK: Closing

    /// Waits for counted calls in flight, then deregisters and releases the file. Idempotent.
    func close() throws(Errno) {
        try release(ownerMayBeInCall: true)
    }

    /// `ownerMayBeInCall` is false only in `deinit`, when no thread can be inside a call.
    private func release(ownerMayBeInCall: Bool) throws(Errno) {
        let before = usage.bitwiseOr(1, ordering: .sequentiallyConsistent).oldValue
        guard before & 1 == 0 else { return }
        // Counted calls are non-blocking system calls: they end within microseconds.
        while usage.load(ordering: .acquiring) > 1 {
            sched_yield()
        }
        let owner = ownerThread.load(ordering: .sequentiallyConsistent)
        let keepsNumber = ownerMayBeInCall && owner != 0 && owner != OwnedDescriptor.currentThread
        // Also after a deregister: on io_uring its cancel may not have reached the kernel yet,
        // and until it does the poll keeps the file open.
        let releasedByBackend = registration.withLock { current -> Bool in
            defer { current = Registration() }
            guard let registry = current.registry else { return false }
            registry.selector.closeRegistered(descriptor: descriptor, keepingNumber: keepsNumber)
            return true
        }
        if keepsNumber {
            // The owner may be about to use the number: it stays taken until deinit.
            holdsPlaceholder.store(true, ordering: .releasing)
            if !releasedByBackend { _ = DescriptorPlaceholder.cover(descriptor) }
        } else if !releasedByBackend, Glibc.close(descriptor) != 0, errno != EINTR {
            throw Errno(rawValue: errno)
        }
    }

    deinit {
        if holdsPlaceholder.load(ordering: .acquiring) {
            Glibc.close(descriptor)
        } else {
            try? release(ownerMayBeInCall: false)
        }
    }
}
