import RingPoll

/// The two backends, named as the benchmarks show them.
enum BenchBackend: String, CaseIterable {
    case ioUring = "io_uring"
    case epoll = "epoll"

    var backend: Backend {
        switch self {
        case .ioUring: .ioUring
        case .epoll: .epoll
        }
    }

    func makePoll() -> Poll {
        do {
            return try Poll(backend: backend)
        } catch {
            fatalError("Poll(backend: .\(self)): \(error)")
        }
    }
}
