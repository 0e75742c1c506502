/// Names one timer set with `EventLoop.setTimeout(_:after:)`, so that it can be cleared.
///
/// A handle stays valid as a value forever: once its timer has fired or been cleared, clearing it
/// again simply returns `false`, even if the timer's storage was reused for a newer timer (each
/// reuse has a new generation), and a handle of another loop never matches.
public struct TimeoutHandle: Hashable, Sendable {
    /// Serial number of the loop that made the handle.
    let loop: UInt64
    /// The timer's slot in the loop's timer heap.
    let slot: UInt32
    /// Which use of the slot this handle names.
    let generation: UInt32
}
