import SystemPackage

/// Turns the backend a caller asked for into the one that will run.
enum BackendSelection {
    enum Choice: Equatable {
        case epoll
        /// `required`: asked for by name (argument or environment), so failing to create the ring
        /// is an error. Otherwise epoll takes over when the ring cannot be created after all.
        case ioUring(required: Bool)
    }

    /// Overrides `.automatic`: `io_uring` or `epoll`.
    static let environmentVariable = "RINGPOLL_BACKEND"

    /// `override` is the value of `RINGPOLL_BACKEND` (or `nil`); `ioUring` is only evaluated
    /// when the answer depends on it, so choosing epoll never probes io_uring.
    static func resolve(
        _ requested: Backend,
        override: String?,
        ioUring: () -> IOUringAvailability
    ) throws(Errno) -> Choice {
        switch requested {
        case .epoll:
            return .epoll
        case .ioUring:
            if case .unavailable(let error, _) = ioUring() { throw error }
            return .ioUring(required: true)
        case .automatic:
            switch override {
            case nil, "", "automatic":
                return ioUring() == .available ? .ioUring(required: false) : .epoll
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
