/// How a suspended wait ended. A waiting task is resumed exactly once, with one of these, by
/// whoever removed its continuation from the executor's tables (always on the executor thread).
enum WaitOutcome: UInt8, Sendable {
    /// The readiness (or the turn, or the deadline) it waited for has come.
    case ready
    /// The task was cancelled while it waited.
    case cancelled
    /// The socket was closed while the task waited for it.
    case closed
    /// The executor is shutting down: it ends every wait.
    case shutdown
}

/// A suspended task: its continuation and the number of its wait, which tells a late
/// cancellation request apart from the wait it was meant for.
struct Waiter {
    var id: UInt64
    var continuation: UnsafeContinuation<WaitOutcome, Never>

    func resume(_ outcome: WaitOutcome) {
        continuation.resume(returning: outcome)
    }
}

/// The direction of an operation on a socket: each has its own readiness and its own queue of
/// operations.
enum Direction: Int, Sendable {
    case read = 0
    case write = 1

    /// The readiness bit of this direction in `IOTable`.
    var readinessBit: UInt8 { self == .read ? 1 : 2 }
}

/// Where a wait is parked, so that a cancellation request can find it.
enum WaitSite: Sendable {
    /// The current operation of a socket, waiting for readiness.
    case readiness(slot: UInt32, generation: UInt32, direction: Direction)
    /// An operation waiting for the one before it to finish.
    case turn(slot: UInt32, generation: UInt32, direction: Direction)
    /// A sleeping task.
    case sleep(slot: UInt32, generation: UInt32)
}

/// Work that other threads hand to the executor thread beside jobs.
enum ExecutorRequest: Sendable {
    /// A task was cancelled while (or just before) it waited.
    case cancel(id: UInt64, site: WaitSite)
    /// A socket was closed or dropped off the executor thread: its waiters learn it, its slot is freed.
    case release(slot: UInt32, generation: UInt32)
}
