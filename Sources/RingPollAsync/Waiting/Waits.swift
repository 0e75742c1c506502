import RingPoll

/// The suspensions of the executor thread's tasks. Each parks a continuation in a table of the
/// core, and whoever takes it out again (a readiness event, the end of the previous operation,
/// a deadline, a cancellation request, a close, shutdown) resumes it, exactly once, on this
/// thread. All of them are called on the executor thread only.
///
/// Cancellation: the handler of `withTaskCancellationHandler` runs on the cancelling thread.
/// It only posts a request naming the wait (its id and where it is parked); the executor thread
/// carries it out, and resumes the task with `.cancelled` if that wait is still parked. A task
/// cancelled before it parks sees `Task.isCancelled` right after parking and takes itself out.
///
/// Each takes the caller's isolation as an `isolated` parameter and captures it in the operation
/// closure of `withTaskCancellationHandler`: a closure formed in a `nonisolated(nonsending)`
/// function is not isolated to the caller (Swift 6.3.1), and would hop to the generic executor,
/// off the executor thread for a caller that has no task executor preference.
extension PollExecutor {
    /// Waits until `direction` of the socket in `slot` is ready.
    func waitForReadiness(_ slot: UInt32, _ generation: UInt32, _ direction: Direction, isolation: isolated (any Actor)? = #isolation) async -> WaitOutcome {
        let core = self.core
        guard !core.draining else { return .shutdown }
        let id = core.makeWaitID()
        return await withTaskCancellationHandler(operation: {
            _ = isolation  // keeps the closure on the caller's executor (else it would hop to the generic one)
            return await withUnsafeContinuation { (continuation: UnsafeContinuation<WaitOutcome, Never>) in
                core.io.parkHolder(slot, direction, Waiter(id: id, continuation: continuation))
                if Task.isCancelled { core.io.cancelHolder(slot, generation, direction, id: id) }
            }
        }, onCancel: {
            self.post(.cancel(id: id, site: .readiness(slot: slot, generation: generation, direction: direction)))
        }, isolation: isolation)
    }

    /// Waits until `direction` of the socket in `slot` passes to this operation, after the ones
    /// queued before it (the caller found it busy).
    func waitForTurn(_ slot: UInt32, _ generation: UInt32, _ direction: Direction, isolation: isolated (any Actor)? = #isolation) async -> WaitOutcome {
        let core = self.core
        if core.io.tryAcquire(slot, direction) { return .ready }  // released meanwhile
        guard !core.draining else { return .shutdown }
        let id = core.makeWaitID()
        return await withTaskCancellationHandler(operation: {
            _ = isolation  // keeps the closure on the caller's executor (else it would hop to the generic one)
            return await withUnsafeContinuation { (continuation: UnsafeContinuation<WaitOutcome, Never>) in
                core.io.parkForTurn(slot, direction, Waiter(id: id, continuation: continuation))
                if Task.isCancelled { core.io.cancelTurn(slot, generation, direction, id: id) }
            }
        }, onCancel: {
            self.post(.cancel(id: id, site: .turn(slot: slot, generation: generation, direction: direction)))
        }, isolation: isolation)
    }

    /// Waits until the monotonic clock reaches `deadline`.
    func waitUntil(_ deadline: UInt64, isolation: isolated (any Actor)? = #isolation) async -> WaitOutcome {
        let core = self.core
        guard !core.draining else { return .shutdown }
        let id = core.makeWaitID()
        let (slot, generation) = core.sleepers.reserve()
        return await withTaskCancellationHandler(operation: {
            _ = isolation  // keeps the closure on the caller's executor (else it would hop to the generic one)
            return await withUnsafeContinuation { (continuation: UnsafeContinuation<WaitOutcome, Never>) in
                core.sleepers.schedule(slot: slot, Waiter(id: id, continuation: continuation), deadline: deadline)
                if Task.isCancelled {
                    core.sleepers.cancel(slot: slot, generation: generation, id: id)?.resume(.cancelled)
                }
            }
        }, onCancel: {
            self.post(.cancel(id: id, site: .sleep(slot: slot, generation: generation)))
        }, isolation: isolation)
    }
}

extension WaitOutcome {
    /// Turns an ended wait into the error an operation throws: a cancelled task and a shut-down
    /// executor give `CancellationError`, a closed socket `Errno.badFileDescriptor`.
    func check() throws {
        switch self {
        case .ready: return
        case .cancelled, .shutdown: throw CancellationError()
        case .closed: throw Errno.badFileDescriptor
        }
    }
}
