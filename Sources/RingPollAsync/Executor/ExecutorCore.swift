import RingPoll

/// A job as the executor queues it, with the role it was enqueued in: the runtime runs a job
/// of an actor on the executor (serial role) differently from a job of nonisolated code whose
/// task prefers the executor (task role).
struct ScheduledJob {
    enum Role { case serial, task }
    let job: UnownedJob
    let role: Role
}

/// Everything the executor thread owns: the poll, its events, the local job queue, the socket
/// table and the sleepers. Only that thread touches it, so nothing here takes a lock.
final class ExecutorCore {
    /// nil once the thread has ended: the ring is closed on the thread that used it.
    var poll: Poll?
    /// The poll's registry, which outlives it (registering then throws `Errno.badFileDescriptor`).
    let registry: Registry
    var events = Events(capacity: 1024)
    let waker: Waker
    /// Jobs enqueued from the executor thread itself (a readiness resuming a task, a task
    /// resuming another), and those moved here from the inbox.
    var jobs = Ring<ScheduledJob>(capacity: 1024)
    /// Cancellations and releases to carry out before the next jobs.
    var requests = Ring<ExecutorRequest>(capacity: 64)
    let io = IOTable()
    let sleepers = SleeperHeap()
    /// Shutdown has begun: every wait ends at once with `.shutdown`.
    var draining = false
    private var lastWaitID: UInt64 = 0

    static let wakeToken = Token(Int.max)

    init(backend: Backend) throws(Errno) {
        let poll = try Poll(backend: backend)
        waker = try Waker(registry: poll.registry, token: ExecutorCore.wakeToken)
        self.poll = poll
        registry = poll.registry
    }

    func makeWaitID() -> UInt64 {
        lastWaitID &+= 1
        return lastWaitID
    }

    /// Resumes what `request` names.
    func carryOut(_ request: ExecutorRequest) {
        switch request {
        case .cancel(let id, let site):
            switch site {
            case .readiness(let slot, let generation, let direction):
                io.cancelHolder(slot, generation, direction, id: id)
            case .turn(let slot, let generation, let direction):
                io.cancelTurn(slot, generation, direction, id: id)
            case .sleep(let slot, let generation):
                sleepers.cancel(slot: slot, generation: generation, id: id)?.resume(.cancelled)
            }
        case .release(let slot, let generation):
            io.release(slot, generation)
        }
    }

    /// Resumes every sleeper whose deadline has passed.
    func wakeSleepers() {
        guard !sleepers.isEmpty else { return }
        let now = MonotonicTime.now()
        while let waiter = sleepers.popExpired(now: now) {
            waiter.resume(.ready)
        }
    }

    /// Ends every wait (shutdown); later waits end at once.
    func endAllWaits() {
        draining = true
        io.endAllWaits(.shutdown)
        while let waiter = sleepers.popAny() {
            waiter.resume(.shutdown)
        }
    }

    /// Hands one event to the socket table: the bits, and the tasks they resume.
    func dispatch(_ event: Event) {
        guard event.token != ExecutorCore.wakeToken else { return }
        let raw = UInt64(bitPattern: Int64(event.token.rawValue))
        io.markReady(UInt32(truncatingIfNeeded: raw), UInt32(truncatingIfNeeded: raw >> 32),
                     readable: event.isReadable || event.isReadClosed || event.isError,
                     writable: event.isWritable || event.isWriteClosed || event.isError)
    }

    static func token(slot: UInt32, generation: UInt32) -> Token {
        Token(Int(generation) << 32 | Int(slot))
    }
}

/// What other threads leave for the executor thread, under the executor's mutex.
struct Inbox: ~Copyable {
    enum Lifecycle: UInt8 { case running, draining, terminated }

    var jobs = Ring<ScheduledJob>(capacity: 256)
    var requests = Ring<ExecutorRequest>(capacity: 64)
    /// The executor thread is in, or about to enter, a blocking poll.
    var sleeping = false
    /// A wake-up was sent for this sleep.
    var wakePending = false
    var lifecycle = Lifecycle.running
    var terminationWaiters: [UnsafeContinuation<Void, Never>] = []

    var isEmpty: Bool { jobs.isEmpty && requests.isEmpty }

    /// Called after adding work: whether the adder must wake the sleeping thread.
    mutating func needsWake() -> Bool {
        guard sleeping, !wakePending else { return false }
        wakePending = true
        return true
    }
}
