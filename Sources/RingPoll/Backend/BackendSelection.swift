import SystemPackage

/// Turns the backend a caller asked for into the one that will run.
enum BackendSelection {
    /// Overrides `.automatic`: `io_uring` or `epoll`.
    static let environmentVariable = "RINGPOLL_BACKEND"

    /// `override` is the value of `RINGPOLL_BACKEND` (or `nil`); `ioUring` is only evaluated
    /// when the answer depends on it, so choosing epoll never probes io_uring.
    static func resolve(
        _ requested: Backend,
        override: String?,
        ioUring: () -> IOUringAvailability
    ) throws(Errno) -> Backend {
        switch requested {
        case .epoll:
            return .epoll
        case .ioUring:
            if case .unavailable(let error, _) = ioUring() { throw error }
            return .ioUring
        case .automatic:
            switch override {
            case nil, "", "automatic":
                return ioUring() == .available ? .ioUring : .epoll
            case "io_uring":
                return try resolve(.ioUring, override: nil, ioUring: ioUring)
            case "epoll":
                return .epoll
            default:
                throw .invalidArgument  // a typo must not silently pick a backend
            }
        }
    }
}
