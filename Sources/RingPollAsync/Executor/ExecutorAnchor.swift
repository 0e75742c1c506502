/// An operation that must run on its executor's thread (a read, a write, an accept, a sleep):
/// `run` is `nonisolated(nonsending)`, so it stays on whatever executor it is called from, and
/// its suspensions resume there.
protocol ExecutorOperation {
    associatedtype Result
    nonisolated(nonsending) func run() async throws -> Result
}

/// The way onto the executor thread for code that runs elsewhere: an actor whose executor is
/// the `PollExecutor`'s serial role. Awaiting `perform` switches to the thread (and back
/// afterwards), and the operation, called from the actor, runs and resumes there.
actor ExecutorAnchor {
    private unowned(unsafe) let executor: PollExecutor

    init(_ executor: PollExecutor) {
        self.executor = executor
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    func perform<Operation: ExecutorOperation>(_ operation: UncheckedBox<Operation>) async throws -> UncheckedBox<Operation.Result> {
        UncheckedBox(try await operation.value.run())
    }
}

/// Carries a value to the executor thread and back while its owner waits for the hop (so it is
/// never used from two threads at once).
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension PollExecutor {
    /// Runs `operation` on the executor thread: directly when the caller already runs there
    /// (nonisolated code of a task that prefers this executor, or an actor on it), else through
    /// the anchor. A terminated executor runs nothing: `CancellationError`.
    nonisolated(nonsending)
    func perform<Operation: ExecutorOperation>(_ operation: Operation) async throws -> Operation.Result {
        if isCurrent, runsHere(#isolation) {
            return try await operation.run()
        }
        guard !isTerminated else { throw CancellationError() }
        return try await anchor.perform(UncheckedBox(operation)).value
    }

    /// Whether code isolated to `isolation` resumes on this thread after a suspension: nonisolated
    /// code on this thread runs for a task that prefers this executor, and an actor resumes here
    /// if its executor is this one.
    func runsHere(_ isolation: (any Actor)?) -> Bool {
        guard let isolation else { return true }
        let theirs = isolation.unownedExecutor
        let ours = asUnownedSerialExecutor()
        return unsafeBitCast(theirs, to: (UInt, UInt).self) == unsafeBitCast(ours, to: (UInt, UInt).self)
    }
}
