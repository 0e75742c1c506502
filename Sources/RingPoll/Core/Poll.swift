import Glibc

/// Waits for readiness of registered sources and reports it as `Event`s.
///
/// One thread polls at a time. The `Poll` may move to another thread between calls; on io_uring
/// the ring follows it. Register sources through `registry`, from any thread.
///
/// ```swift
/// let poll = try Poll()
/// var events = Events(capacity: 128)
/// try poll.registry.register(SourceFD(fd), token: Token(0), interests: .readable)
/// try poll.poll(&events, timeout: nil)
/// ```
public final class Poll {
    /// Registers sources with this poll. Also usable from other threads.
    public let registry: Registry

    /// The backend in use: `.ioUring` or `.epoll`, never `.automatic`.
    public var backend: Backend { registry.selector.backend }

    /// Creates a poll on `backend`. `.automatic` uses io_uring when this kernel and process allow
    /// multishot polls, else epoll; `RINGPOLL_BACKEND=io_uring|epoll` overrides it (any other
    /// value throws `Errno.invalidArgument`). `.ioUring` throws the probe's error when io_uring
    /// cannot run here; `Backend.ioUringUnavailableReason` says why.
    public convenience init(backend: Backend = .automatic) throws(Errno) {
        try self.init(backend: backend, ringConfiguration: RingConfiguration())
    }

    /// Creates a poll whose io_uring ring (if io_uring is chosen) has the given configuration.
    @_spi(Tuning)
    public init(backend: Backend, ringConfiguration: RingConfiguration) throws(Errno) {
        try ringConfiguration.validate()
        let override = getenv(BackendSelection.environmentVariable).map { String(cString: $0) }
        let choice = try BackendSelection.resolve(backend, override: override) { IOUringProbe.availability }
        registry = Registry(selector: try Poll.makeSelector(choice, ringConfiguration))
    }

    private static func makeSelector(_ choice: BackendSelection.Choice, _ configuration: RingConfiguration) throws(Errno) -> any Selector {
        guard case .ioUring(let required) = choice else { return try EpollSelector() }
        do {
            return try IOUringSelector(configuration: configuration)
        } catch {
            // The process-wide probe said yes, but this ring could not be made (a seccomp filter
            // on this thread, memory limits): `.automatic` still gets a working poll.
            if required { throw error }
            return try EpollSelector()
        }
    }

    /// Waits until at least one registered source is ready, or `timeout` passes (`nil`: forever;
    /// `.zero`: not at all; sub-millisecond values are honoured), then fills `events`.
    ///
    /// `events` is cleared first and receives at most `events.capacity` events, one per
    /// registration; readiness beyond that is reported by the next call, which then does not
    /// block. A signal ending the wait throws `Errno.interrupted`. Allocates nothing.
    public func poll(_ events: inout Events, timeout: Duration?) throws(Errno) {
        try registry.selector.select(&events, timeout: timeout)
    }

    deinit {
        // Ends every kernel request, so no file stays open because of this poll. Wakers and
        // registries that outlive it see a closed poll.
        registry.selector.close()
    }
}

extension Backend {
    /// Why io_uring cannot be used in this process, or `nil` when it can.
    public static var ioUringUnavailableReason: String? {
        if case .unavailable(_, let reason) = IOUringProbe.availability { return reason }
        return nil
    }
}
