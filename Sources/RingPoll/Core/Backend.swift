/// The kernel mechanism behind a `Poll`.
public enum Backend: Sendable, Hashable, CustomStringConvertible {
    /// io_uring when this kernel and process allow multishot polls, else epoll. The environment
    /// variable `RINGPOLL_BACKEND=io_uring|epoll` overrides the choice.
    case automatic
    /// `IORING_OP_POLL_ADD` multishot requests on an io_uring ring.
    case ioUring
    /// epoll, as used by mio and SwiftNIO.
    case epoll

    /// `automatic`, `io_uring` or `epoll`: the spelling `RINGPOLL_BACKEND` accepts.
    public var description: String {
        switch self {
        case .automatic: "automatic"
        case .ioUring: "io_uring"
        case .epoll: "epoll"
        }
    }
}
