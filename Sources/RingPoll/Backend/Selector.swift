import SystemPackage

/// The one interface both kernel backends implement. `Poll`, `Registry` and `Waker` only talk
/// to this; they never know whether io_uring or epoll does the work.
///
/// Every method but `select` may be called from any thread, also while another thread is inside
/// `select`. `select` runs on one thread at a time (the thread owning the `Poll`).
protocol Selector: AnyObject, Sendable {
    /// `.ioUring` or `.epoll`, never `.automatic`.
    var backend: Backend { get }

    func register(_ request: RegistrationRequest) throws(Errno)
    func reregister(_ request: RegistrationRequest) throws(Errno)
    func deregister(descriptor: CInt, ownership: DescriptorOwnership) throws(Errno)
    /// Deregisters an owned descriptor and closes it, releasing the file at once (the peer sees
    /// the close now, not at the next poll), with the fewest system calls the backend allows.
    /// `keepingNumber`: release the file but keep the number taken (`DescriptorPlaceholder`),
    /// because another thread may still be inside a call on it.
    func closeRegistered(descriptor: CInt, keepingNumber: Bool)

    func addWaker(token: Token) throws(Errno) -> WakerID
    func wake(_ waker: WakerID) throws(Errno)
    func removeWaker(_ waker: WakerID)

    /// Fills `events` (cleared first) with at most `events.capacity` events, waiting up to
    /// `timeout` (`nil`: forever) for the first one.
    func select(_ events: inout Events, timeout: Duration?) throws(Errno)

    /// Releases the kernel objects. Later calls fail with `Errno.badFileDescriptor`.
    func close()

    /// A snapshot of internal counters, for tests and benchmarks.
    var diagnostics: SelectorDiagnostics { get }
}

/// What a selector has been through. Tests use it to prove that a fault path was really taken.
struct SelectorDiagnostics: Sendable {
    /// A poller is blocked in the kernel right now.
    var isPollerAsleep = false
    /// Polls during which the io_uring CQ overflowed.
    var completionOverflows = 0
    /// Completions the kernel dropped (allocation failure); must stay 0.
    var droppedCompletions = 0
    /// Multishot polls that ended on their own and were armed again.
    var rearms = 0
    /// Rings rebuilt because polling moved to another thread.
    var ringRebuilds = 0
}

/// How far RingPoll can trust a descriptor it is asked to register.
enum DescriptorOwnership: Sendable {
    /// A raw descriptor the caller owns (`SourceFD`). It may be closed, or closed and its number
    /// reused, behind RingPoll's back, so it is checked (`fstat`) where that matters.
    case borrowed
    /// A descriptor owned by a RingPoll socket or pipe, which deregisters before it closes.
    case owned
}

/// Everything a selector needs to (re)register one descriptor.
struct RegistrationRequest: Sendable {
    var descriptor: CInt
    var token: Token
    var interests: Interest
    var trigger: Trigger
    var ownership: DescriptorOwnership
}

/// A waker's slot in its selector.
struct WakerID: Sendable, Hashable {
    var slot: UInt32
    var generation: UInt32
}
