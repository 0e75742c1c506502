extension PollExecutor {
    /// Suspends the task for at least `duration`, measured on the executor's monotonic clock and
    /// kept by its poll timeout (sub-millisecond durations are honoured; a sleep never ends
    /// early). Throws `CancellationError` when the task is cancelled (also when it already was
    /// before the call) or the executor shuts down. A zero or negative duration returns at once.
    nonisolated(nonsending)
    public func sleep(for duration: Duration) async throws(CancellationError) {
        let deadline = MonotonicTime.now() &+ MonotonicTime.nanoseconds(of: duration)
        try await sleep(untilMonotonic: deadline)
    }

    /// Suspends the task until `deadline` of the continuous clock has passed (measured by the
    /// time left, on the executor's monotonic clock). See `sleep(for:)`.
    nonisolated(nonsending)
    public func sleep(until deadline: ContinuousClock.Instant) async throws(CancellationError) {
        let left = deadline - ContinuousClock.now
        try await sleep(untilMonotonic: MonotonicTime.now() &+ MonotonicTime.nanoseconds(of: left))
    }

    nonisolated(nonsending)
    private func sleep(untilMonotonic deadline: UInt64) async throws(CancellationError) {
        if Task.isCancelled { throw CancellationError() }
        do {
            try await perform(SleepOperation(executor: self, deadline: deadline))
        } catch {
            throw CancellationError()  // the only error a sleep can end with
        }
    }

    private struct SleepOperation: ExecutorOperation {
        let executor: PollExecutor
        let deadline: UInt64
        nonisolated(nonsending) func run() async throws {
            guard MonotonicTime.now() < deadline else { return }
            try await executor.waitUntil(deadline).check()
        }
    }
}
