import Glibc

/// Which direction of a connection `shutdown(_:)` ends.
///
/// Unlike `close()`, a shutdown reaches every descriptor that shares the socket, and it lets one
/// side announce the end of its data (the peer reads end of stream) while still reading replies.
public enum Shutdown: Sendable, Hashable {
    /// No more reads: later reads return 0 (end of stream).
    case read
    /// No more writes: the peer reads end of stream once it has consumed what was sent.
    case write
    /// Both directions at once.
    case both

    /// The `how` argument of shutdown(2).
    var how: CInt {
        switch self {
        case .read: CInt(SHUT_RD)
        case .write: CInt(SHUT_WR)
        case .both: CInt(SHUT_RDWR)
        }
    }
}
