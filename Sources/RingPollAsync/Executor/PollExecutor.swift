import Dispatch
import Glibc
import RingPoll
import Synchronization

/// A Swift concurrency executor whose one thread polls: the tasks it runs and the readiness of
/// their sockets share that thread, so a readiness event resumes the waiting task directly.
///
/// `PollExecutor` is a `TaskExecutor` (SE-0417) and a `SerialExecutor` (SE-0392):
///
/// ```swift
/// let executor = try PollExecutor()
/// let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:7000"), on: executor)
/// Task(executorPreference: executor) {            // nonisolated code runs on the poll thread
///     for try await connection in listener { … }
/// }
///
/// actor Session {                                  // an actor confined to the poll thread
///     let executor: PollExecutor
///     nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
/// }
/// ```
///
/// **The loop.** The thread runs the jobs that are queued, then polls: without waiting when
/// jobs are left, else until the next sleeper's deadline (or without limit). Readiness events
/// resume the tasks waiting for them, which queues their jobs, and the loop goes round.
/// Other threads enqueue jobs into a mutex-protected queue and wake the thread through a
/// `Waker`, only when it is (or is about to be) blocked in `poll`. Steady-state scheduling and
/// readiness resumption allocate nothing.
///
/// **Lifetime.** The thread runs until `shutdownGracefully()` or `syncShutdownGracefully()`;
/// an executor that is never shut down keeps its thread (as a SwiftNIO event loop group does).
/// Shutting down ends every wait on the executor with `CancellationError`, runs the jobs that
/// follow until none is left, and joins the thread. Jobs enqueued after that run on a serial
/// fallback queue (their socket operations then throw `CancellationError` at once).
///
/// Job priorities are not used: jobs run in the order they were enqueued.
public final class PollExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    /// The backend the executor's `Poll` uses: `.ioUring` or `.epoll`.
    public let backend: Backend

    /// Touched only on the executor thread.
    let core: ExecutorCore
    let inbox = Mutex(Inbox())
    /// The thread running the loop (`pthread_self()` as a number), 0 when none.
    private let owner = Atomic<UInt>(0)
    /// `Inbox.Lifecycle`, readable without the lock.
    private let lifecycle = Atomic<UInt8>(Inbox.Lifecycle.running.rawValue)
    private let serialRole: SerialRole
    private let thread: ExecutorThread
    /// Runs jobs that arrive after the thread has ended.
    private let fallback: DispatchQueue
    /// Operations called from another executor hop here through this actor.
    private(set) var anchor: ExecutorAnchor!

    /// Starts an executor thread with a `Poll` on `backend` (`.automatic`: io_uring when this
    /// kernel allows it, else epoll; `RINGPOLL_BACKEND` overrides it as for `Poll`). Throws the
    /// poll's errors (for example `Errno.invalidArgument` for a bad `RINGPOLL_BACKEND`).
    public convenience init(backend: Backend = .automatic) throws(Errno) {
        try self.init(backend: backend, name: "RingPollExec")
    }

    /// `name` names the thread (first 15 characters), as seen by `top -H` and profilers.
    public init(backend: Backend = .automatic, name: String) throws(Errno) {
        let start = ThreadStart()
        thread = ExecutorThread(name: name) {
            let core: ExecutorCore
            do throws(Errno) {
                core = try ExecutorCore(backend: backend)
            } catch {
                start.fail(error)
                return
            }
            start.offer(core)
            guard let executor = start.waitForExecutor() else { return }
            executor.runLoop()
        }
        let core = try start.waitForCore()
        self.core = core
        self.backend = core.poll!.backend
        fallback = DispatchQueue(label: "RingPollAsync.PollExecutor.fallback")
        serialRole = SerialRole()
        serialRole.executor = self
        anchor = ExecutorAnchor(self)
        start.start(self)
    }

    deinit {
        thread.detachUnlessJoined()
    }

    // MARK: Executor

    /// Enqueues a job of a task that prefers this executor (the `TaskExecutor` role); it runs
    /// on the executor thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        schedule(ScheduledJob(job: UnownedJob(job), role: .task))
    }

    /// The executor of actors that want to run on this thread. Use it as an actor's
    /// `unownedExecutor`.
    ///
    /// It refers to a companion object that enqueues in the serial role. A job of an actor must
    /// run isolated to the actor's executor, a job of nonisolated code on the task executor only
    /// (run isolated to a serial executor, every call into a nonisolated `async` function would
    /// switch executors, one more trip through the queue), but one class conforming to both
    /// protocols has one `enqueue` for both roles.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: serialRole)
    }

    /// The executor for `withTaskExecutorPreference` and `Task(executorPreference:)`.
    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Traps unless called on the executor thread; makes `assumeIsolated` work for actors on it.
    public func checkIsolated() {
        precondition(isCurrent, "not on the thread of this PollExecutor")
    }

    /// Whether the calling code runs on this executor's thread.
    public var isCurrent: Bool {
        owner.load(ordering: .relaxed) == UInt(pthread_self())
    }

    var isTerminated: Bool {
        lifecycle.load(ordering: .acquiring) == Inbox.Lifecycle.terminated.rawValue
    }

    func schedule(_ job: ScheduledJob) {
        if isCurrent {
            core.jobs.push(job)
            return
        }
        let (wake, accepted) = inbox.withLock { inbox -> (Bool, Bool) in
            guard inbox.lifecycle != .terminated else { return (false, false) }
            inbox.jobs.push(job)
            return (inbox.needsWake(), true)
        }
        if wake { try? core.waker.wake() }
        if !accepted {
            let executor = self
            fallback.async { executor.run(job) }
        }
    }

    func run(_ scheduled: ScheduledJob) {
        switch scheduled.role {
        case .task:
            scheduled.job.runSynchronously(on: asUnownedTaskExecutor())
        case .serial:
            scheduled.job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }

    /// Hands a request to the executor thread: at once when called there, else through the
    /// inbox (waking the thread). Dropped once the executor has ended (nothing waits then).
    func post(_ request: ExecutorRequest) {
        if isCurrent {
            core.requests.push(request)
            return
        }
        let wake = inbox.withLock { inbox -> Bool in
            guard inbox.lifecycle != .terminated else { return false }
            inbox.requests.push(request)
            return inbox.needsWake()
        }
        if wake { try? core.waker.wake() }
    }

    // MARK: Shutdown

    /// Shuts the executor down and returns once its thread has ended: every wait on it ends
    /// with `CancellationError` (tasks blocked in a read, write, accept, connect or sleep of
    /// this executor resume and unwind), later waits fail the same way, and the jobs that
    /// follow run until none is left. Callable from anywhere, also from a task on this executor.
    /// A task that keeps running jobs forever (a loop of `Task.yield()`) keeps the executor
    /// draining until it ends.
    public func shutdownGracefully() async {
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let (done, wake) = inbox.withLock { inbox -> (Bool, Bool) in
                if inbox.lifecycle == .terminated { return (true, false) }
                inbox.terminationWaiters.append(continuation)
                return (false, beginDraining(&inbox))
            }
            if wake { try? core.waker.wake() }
            if done { continuation.resume() }
        }
        thread.join()
    }

    /// `shutdownGracefully()` for synchronous code: blocks until the thread has ended. Must not
    /// be called on the executor's own thread (it would wait for itself).
    public func syncShutdownGracefully() {
        precondition(!isCurrent, "syncShutdownGracefully() on the executor's own thread would wait for itself")
        beginShutdown()
        thread.join()
    }

    /// Starts shutting down without waiting.
    func beginShutdown() {
        let wake = inbox.withLock { inbox in beginDraining(&inbox) }
        if wake { try? core.waker.wake() }
    }

    /// Waits for the thread to end (after `beginShutdown`).
    func joinThread() {
        thread.join()
    }

    private func beginDraining(_ inbox: inout Inbox) -> Bool {
        guard inbox.lifecycle == .running else { return false }
        inbox.lifecycle = .draining
        lifecycle.store(Inbox.Lifecycle.draining.rawValue, ordering: .releasing)
        return inbox.needsWake()
    }

    // MARK: The loop

    /// The executor thread's life.
    private func runLoop() {
        owner.store(UInt(pthread_self()), ordering: .relaxed)
        while true {
            let state = takeInbox()
            if state == .draining, !core.draining { core.endAllWaits() }
            while let request = core.requests.pop() { core.carryOut(request) }
            core.wakeSleepers()
            runJobs()
            if core.draining, core.jobs.isEmpty, core.requests.isEmpty, tryTerminate() { break }
            pollOnce()
        }
        finish()
    }

    /// Moves what other threads left into the core; the thread is awake now.
    private func takeInbox() -> Inbox.Lifecycle {
        inbox.withLock { inbox in
            inbox.sleeping = false
            inbox.wakePending = false
            if !inbox.jobs.isEmpty { core.jobs.append(contentsOf: &inbox.jobs) }
            if !inbox.requests.isEmpty { core.requests.append(contentsOf: &inbox.requests) }
            return inbox.lifecycle
        }
    }

    /// Runs queued jobs, newly queued ones included, up to a budget: a task that keeps
    /// yielding cannot keep readiness from being polled.
    private func runJobs() {
        var budget = 256
        while budget > 0, let job = core.jobs.pop() {
            run(job)
            budget -= 1
        }
    }

    private func pollOnce() {
        var timeout: Duration? = .zero
        if core.jobs.isEmpty, core.requests.isEmpty {
            timeout = nil
            if let deadline = core.sleepers.nextDeadline {
                let now = MonotonicTime.now()
                timeout = deadline > now ? .nanoseconds(Int64(clamping: deadline - now)) : .zero
            }
            if timeout != .zero {
                let mayBlock = inbox.withLock { inbox -> Bool in
                    guard inbox.isEmpty, inbox.lifecycle == .running else { return false }
                    inbox.sleeping = true
                    return true
                }
                if !mayBlock { timeout = .zero }
            }
        }
        do throws(Errno) {
            try core.poll!.poll(&core.events, timeout: timeout)
        } catch {
            // A signal ended the wait: the loop goes round. Nothing else can fail on a poll this
            // thread owns; if it does, the loop must not spin.
            if error != .interrupted { fatalError("PollExecutor: poll failed: \(error)") }
            return
        }
        for event in core.events { core.dispatch(event) }
    }

    /// Ends the executor if nothing is left to run.
    private func tryTerminate() -> Bool {
        inbox.withLock { inbox in
            guard inbox.isEmpty else { return false }
            inbox.lifecycle = .terminated
            lifecycle.store(Inbox.Lifecycle.terminated.rawValue, ordering: .releasing)
            return true
        }
    }

    private func finish() {
        owner.store(0, ordering: .relaxed)
        let waiters = inbox.withLock { inbox in
            defer { inbox.terminationWaiters = [] }
            return inbox.terminationWaiters
        }
        core.poll = nil  // closes the ring on the thread that used it
        for waiter in waiters { waiter.resume() }
    }
}

/// The serial role of a `PollExecutor` (see `PollExecutor.asUnownedSerialExecutor()`).
final class SerialRole: SerialExecutor, @unchecked Sendable {
    /// Set once, right after the executor is made; the executor owns this object.
    unowned(unsafe) var executor: PollExecutor!

    func enqueue(_ job: consuming ExecutorJob) {
        executor.schedule(ScheduledJob(job: UnownedJob(job), role: .serial))
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func checkIsolated() {
        executor.checkIsolated()
    }
}

/// The handshake between `PollExecutor.init` and its new thread: the thread makes the core
/// (the poll belongs to the thread that uses it), the initializer makes the executor.
private final class ThreadStart: Sendable {
    private let core = Mutex<Result<ExecutorCoreBox, Errno>?>(nil)
    private let executor = Mutex<PollExecutor?>(nil)
    private let coreReady = DispatchSemaphore(value: 0)
    private let executorReady = DispatchSemaphore(value: 0)

    func offer(_ value: ExecutorCore) {
        core.withLock { $0 = .success(ExecutorCoreBox(value)) }
        coreReady.signal()
    }

    func fail(_ error: Errno) {
        core.withLock { $0 = .failure(error) }
        coreReady.signal()
    }

    func waitForCore() throws(Errno) -> ExecutorCore {
        coreReady.wait()
        return try core.withLock { $0! }.get().core
    }

    func start(_ value: PollExecutor) {
        executor.withLock { $0 = value }
        executorReady.signal()
    }

    func waitForExecutor() -> PollExecutor? {
        executorReady.wait()
        return executor.withLock { $0.take() }
    }
}

/// Carries the core from the thread that made it to the initializer, which hands it back to
/// that thread only.
private struct ExecutorCoreBox: @unchecked Sendable {
    let core: ExecutorCore
    init(_ core: ExecutorCore) { self.core = core }
}
