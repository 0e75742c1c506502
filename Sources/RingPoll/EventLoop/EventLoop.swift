import Glibc
import Synchronization

/// Serial numbers that tell the timer handles of different loops apart.
private let eventLoopSerials = Atomic<UInt64>(1)

/// mio's classic event loop on top of `Poll`: it polls, and hands readiness, cross-thread
/// messages and timers to an `EventHandler`, so that a program written as callbacks needs no
/// poll loop of its own.
///
/// ```swift
/// struct Server: EventHandler {
///     let listener: TCPListener
///     mutating func ready(_ loop: EventLoop<Server>, token: Token, event: Event) {
///         while let (stream, _) = try? listener.accept() { /* register it */ }
///     }
/// }
/// let loop = try EventLoop<Server>()
/// let listener = try TCPListener.bind(SocketAddress("127.0.0.1:7000"))
/// try loop.listen(listener, token: Token(0))
/// var server = Server(listener: listener)
/// try loop.run(&server)        // until loop.shutdown()
/// ```
///
/// Threads: `run` and `runOnce` run on one thread at a time (the loop's thread), and timers are
/// set and cleared there too (from callbacks, or while the loop is not running), because a
/// timer's `Timeout` value never has to be `Sendable`. `shutdown()`, `channel()`, `registry`
/// and senders work from any thread.
///
/// Reserved token: the loop wakes itself (for messages and `shutdown()` from other threads) with
/// a `Waker` whose token is `EventLoop.wakeToken`, `Token(Int.max)`. Events with that token never
/// reach `ready`, so a source registered through `registry` with it is never reported, and
/// `connect`/`listen` refuse it.
///
/// Steady-state ticks allocate nothing: the events buffer, the timer heap and the message ring
/// are allocated once and reused (they grow only while the number of pending timers or messages
/// reaches a new high).
public final class EventLoop<Handler: EventHandler>: Sendable {
    /// The token of the loop's own wake-ups; never passed to `ready`.
    public static var wakeToken: Token { Token(Int.max) }

    /// Registers sources whose readiness reaches `EventHandler.ready`. Usable from any thread,
    /// with every trigger (`.edge`, `.level`, `.oneshot`); a change made while the loop waits
    /// is seen by that wait.
    public let registry: Registry

    /// The settings the loop was made with.
    public let configuration: EventLoopConfiguration

    /// The kernel mechanism polling for this loop: `.ioUring` or `.epoll`.
    public var backend: Backend { registry.selector.backend }

    // Loop-thread state. `run`/`runOnce` admit one thread at a time (`tickOwner`), and timers
    // are documented as the loop thread's, so these are never touched concurrently.
    private nonisolated(unsafe) let poll: Poll
    private nonisolated(unsafe) var events: Events
    private nonisolated(unsafe) let timers: DeadlineHeap<Handler.Timeout>
    /// The last drain stopped at `messagesPerTick` with messages left: the next poll must not wait.
    private nonisolated(unsafe) var messagesRemain = false

    private let waker: Waker
    private let channelCore: MessageChannel<Handler.Message>
    private let serial: UInt64
    private let granularity: UInt64
    private let running = Atomic<Bool>(false)
    private let shutdownRequested = Atomic<Bool>(false)
    /// The thread inside `run`/`runOnce` (`pthread_self()`), or 0.
    private let tickOwner = Atomic<UInt>(0)

    /// Creates a loop on the best backend (io_uring when this kernel allows multishot polls,
    /// else epoll; `RINGPOLL_BACKEND` overrides the choice as for `Poll`). Throws
    /// `Errno.invalidArgument` for a configuration value out of range, and the poll's errors.
    public convenience init(configuration: EventLoopConfiguration = .init()) throws(Errno) {
        try self.init(configuration: configuration, backend: .automatic)
    }

    /// Creates a loop on a given backend; tests use it to run every case on both.
    init(configuration: EventLoopConfiguration, backend: Backend) throws(Errno) {
        try configuration.validate()
        self.configuration = configuration
        poll = try Poll(backend: backend)
        registry = poll.registry
        events = Events(capacity: configuration.eventsCapacity)
        timers = DeadlineHeap()
        waker = try Waker(registry: poll.registry, token: EventLoop.wakeToken)
        channelCore = MessageChannel(capacity: configuration.channelCapacity, waker: waker)
        serial = eventLoopSerials.wrappingAdd(1, ordering: .relaxed).oldValue
        granularity = Deadline.nanoseconds(of: configuration.timerGranularity)
    }

    deinit {
        // Senders outlive the loop: from now on they get `.closed`, and what they queued is freed.
        channelCore.close()
    }

    // MARK: Running

    /// `true` while `run` is inside its loop, from any thread's point of view.
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Runs ticks until `shutdown()` is called, then returns. A `shutdown()` that came while no
    /// `run` was active ends this one before its first tick; either way the request is used up,
    /// so the next `run` goes on until the next `shutdown()`.
    ///
    /// Throws the poll's errors other than `Errno.interrupted`, which goes to
    /// `EventHandler.interrupted` instead. Traps if another `run`/`runOnce` is active.
    public func run(_ handler: inout Handler) throws(Errno) {
        enterTicking()
        running.store(true, ordering: .releasing)
        defer {
            running.store(false, ordering: .releasing)
            shutdownRequested.store(false, ordering: .releasing)
            leaveTicking()
        }
        while !shutdownRequested.load(ordering: .acquiring) {
            try tick(&handler, timeout: nil)
        }
    }

    /// Runs one tick: waits up to `timeout` (`nil`: without limit) but never past the next
    /// timer's deadline, nor at all while messages are waiting; then makes the tick's callbacks.
    /// For programs that interleave the loop with work of their own.
    ///
    /// Throws the poll's errors other than `Errno.interrupted` (see `run`). Traps if another
    /// `run`/`runOnce` is active, including a nested call from a callback.
    public func runOnce(_ handler: inout Handler, timeout: Duration?) throws(Errno) {
        enterTicking()
        defer { leaveTicking() }
        try tick(&handler, timeout: timeout)
    }

    /// Asks `run` to return after the current tick; from a callback or from any thread. A loop
    /// blocked in its poll is woken. The request stays until a `run` uses it (see `run`).
    public func shutdown() {
        shutdownRequested.store(true, ordering: .releasing)
        // From a callback the loop is not waiting: it checks the request before the next tick.
        if tickOwner.load(ordering: .acquiring) != pthread_self() {
            try? waker.wake()
        }
    }

    private func enterTicking() {
        let (exchanged, _) = tickOwner.compareExchange(expected: 0, desired: pthread_self(), ordering: .acquiringAndReleasing)
        precondition(exchanged, "EventLoop.run/runOnce called while the loop is already running")
    }

    private func leaveTicking() {
        tickOwner.store(0, ordering: .releasing)
    }

    /// One iteration: poll, ready (or interrupted), messages, timers, tick.
    private func tick(_ handler: inout Handler, timeout: Duration?) throws(Errno) {
        if try pollEvents(timeout: waitTime(limit: timeout)) {
            for event in events where event.token != EventLoop.wakeToken {
                handler.ready(self, token: event.token, event: event)
            }
        } else {
            handler.interrupted(self)
        }
        deliverMessages(&handler)
        fireTimers(&handler)
        handler.tick(self)
    }

    /// Polls into `events`; `false` when a signal interrupted the wait.
    private func pollEvents(timeout: Duration?) throws(Errno) -> Bool {
        do throws(Errno) {
            try poll.poll(&events, timeout: timeout)
            return true
        } catch {
            guard error == .interrupted else { throw error }
            return false
        }
    }

    /// How long the poll may wait: not at all while messages remain, else until the next timer's
    /// (granularity-rounded) deadline or `limit`, whichever comes first.
    private func waitTime(limit: Duration?) -> Duration? {
        if messagesRemain { return .zero }
        guard let deadline = timers.nextDeadline else { return limit }
        let wakeAt = roundedUp(deadline)
        let now = MonotonicClock.now()
        let untilTimer = Duration.nanoseconds(Int64(clamping: wakeAt > now ? wakeAt - now : 0))
        guard let limit else { return untilTimer }
        return Swift.min(limit, untilTimer)
    }

    /// The first multiple of the granularity at or after `deadline`, so that timers due within
    /// one granule share a wake-up, and none is early or more than one granule late.
    private func roundedUp(_ deadline: UInt64) -> UInt64 {
        guard granularity > 1 else { return deadline }
        let remainder = deadline % granularity
        guard remainder != 0 else { return deadline }
        let (rounded, overflow) = deadline.addingReportingOverflow(granularity - remainder)
        return overflow ? .max : rounded
    }

    /// The last multiple of the granularity at or before `instant`: a deadline `d` has its
    /// rounded deadline passed exactly when `d <= roundedDown(now)`.
    private func roundedDown(_ instant: UInt64) -> UInt64 {
        guard granularity > 1 else { return instant }
        return instant - instant % granularity
    }

    // MARK: Messages

    /// Creates a sender for this loop's channel, from any thread. All senders share the channel
    /// and its `channelCapacity`.
    public func channel() -> EventLoopSender<Handler.Message> {
        EventLoopSender(channel: channelCore)
    }

    /// Hands up to `messagesPerTick` messages to `notify`, one at a time, so a handler that sends
    /// to its own loop is not deadlocked and the limit holds.
    private func deliverMessages(_ handler: inout Handler) {
        var delivered = 0
        while delivered < configuration.messagesPerTick, let message = channelCore.pop() {
            handler.notify(self, message: message)
            delivered += 1
        }
        messagesRemain = delivered == configuration.messagesPerTick && channelCore.hasPending
    }

    // MARK: Timers

    /// Arranges for `timeout` to reach `EventHandler.timeout` once, no earlier than `delay` from
    /// now on the monotonic clock and at most one `timerGranularity` later (as far as the
    /// scheduler lets the thread run). Negative delays count as zero; a timer set by a `timeout`
    /// callback fires in a later tick, even with a zero delay. O(log n) in pending timers.
    ///
    /// Call it on the loop's thread: from a callback, or while no `run`/`runOnce` is active.
    public func setTimeout(_ timeout: Handler.Timeout, after delay: Duration) -> TimeoutHandle {
        checkLoopThread()
        let now = MonotonicClock.now()
        let (deadline, overflow) = now.addingReportingOverflow(Deadline.nanoseconds(of: delay))
        let (slot, generation) = timers.insert(timeout, deadline: overflow ? .max : deadline)
        return TimeoutHandle(loop: serial, slot: slot, generation: generation)
    }

    /// Cancels a timer. Returns `true` when it had not fired yet (it never will now), `false`
    /// when it already fired, was cleared before, or belongs to another loop. O(log n).
    ///
    /// Call it on the loop's thread, as `setTimeout`.
    @discardableResult
    public func clearTimeout(_ handle: TimeoutHandle) -> Bool {
        checkLoopThread()
        guard handle.loop == serial else { return false }
        return timers.cancel(slot: handle.slot, generation: handle.generation) != nil
    }

    /// Calls `timeout` for every timer whose rounded deadline has passed and that was set before
    /// this pass began. Judging by the rounded deadline keeps a granule's timers together even
    /// when the poll returns early for another reason (an event, a message, a signal).
    private func fireTimers(_ handler: inout Handler) {
        guard let first = timers.nextDeadline else { return }
        let due = roundedDown(MonotonicClock.now())
        guard first <= due else { return }
        let limit = timers.nextSequence
        while let timeout = timers.popExpired(now: due, sequenceLimit: limit) {
            handler.timeout(self, timeout: timeout)
        }
    }

    /// Traps when a timer call comes from another thread while the loop runs: the one misuse
    /// the type system cannot see (the class is `Sendable` for `shutdown` and `channel`).
    private func checkLoopThread() {
        let owner = tickOwner.load(ordering: .acquiring)
        precondition(owner == 0 || owner == pthread_self(),
                     "EventLoop timers must be set and cleared on the loop's thread")
    }

    // MARK: Sockets

    /// Starts a TCP connection to `address` and registers it for readable and writable
    /// readiness (edge-triggered) under `token`.
    ///
    /// `ready` is called with `event.isWritable` for `token` once the connect has finished,
    /// also when the kernel finished it before this call returned: registration reports
    /// readiness that already holds, on both backends. Then `takeError()` returning `nil` means
    /// connected; an error (for example `Errno.connectionRefused`) means it failed. Errors known
    /// at once are thrown here; so is `Errno.invalidArgument` for `EventLoop.wakeToken`.
    public func connect(to address: SocketAddress, token: Token) throws(Errno) -> TCPStream {
        guard token != EventLoop.wakeToken else { throw .invalidArgument }
        let stream = try TCPStream.connect(to: address)
        try watchConnecting(stream, token: token)
        return stream
    }

    /// Registers a stream whose connect was started (or has finished) for the event `connect`
    /// promises. Separate so tests can hand it a stream that is already connected.
    func watchConnecting(_ stream: TCPStream, token: Token) throws(Errno) {
        try registry.register(stream, token: token, interests: [.readable, .writable], trigger: .edge)
    }

    /// Registers `listener` for readable readiness (edge-triggered) under `token`.
    ///
    /// `ready` is called for `token` when connections are queued, including connections queued
    /// before this call: registration reports readiness that already holds. Accept until
    /// `Errno.wouldBlock` on each event. Throws `Errno.invalidArgument` for `EventLoop.wakeToken`.
    public func listen(_ listener: TCPListener, token: Token) throws(Errno) {
        guard token != EventLoop.wakeToken else { throw .invalidArgument }
        try registry.register(listener, token: token, interests: .readable, trigger: .edge)
    }
}
