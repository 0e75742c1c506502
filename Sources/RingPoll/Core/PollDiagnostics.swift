/// What a `Poll` has been through, for tools outside the module (the fuzzer, the fault soak)
/// that must prove a fault path was really taken: a tiny ring overflowed, ended polls were
/// re-armed, the ring was rebuilt on another thread. Not a stable API.
@_spi(Tuning)
public struct PollDiagnostics: Sendable, Equatable {
    /// Polls during which the io_uring CQ overflowed (0 on epoll).
    public var completionOverflows: Int
    /// Completions the kernel dropped; must stay 0.
    public var droppedCompletions: Int
    /// Multishot polls that ended on their own and were armed again.
    public var rearms: Int
    /// Rings rebuilt because polling moved to another thread.
    public var ringRebuilds: Int
}

@_spi(Tuning)
extension Poll {
    /// A snapshot of the selector's counters.
    public var diagnostics: PollDiagnostics {
        let counters = registry.selector.diagnostics
        return PollDiagnostics(
            completionOverflows: counters.completionOverflows,
            droppedCompletions: counters.droppedCompletions,
            rearms: counters.rearms,
            ringRebuilds: counters.ringRebuilds)
    }
}
