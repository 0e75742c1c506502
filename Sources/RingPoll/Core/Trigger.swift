/// When a registration reports readiness.
public enum Trigger: Sendable, Hashable {
    /// One event per new readiness (mio 1.x's only mode). Read or write until `Errno.wouldBlock`
    /// before waiting again: readiness that merely persists is not reported twice.
    case edge
    /// An event on every poll for as long as the readiness holds.
    case level
    /// A single event; then the registration stays in place but silent until `reregister`.
    case oneshot
}
