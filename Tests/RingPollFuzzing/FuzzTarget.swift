@_spi(Tuning) import RingPoll

/// A backend under test: io_uring in one task-work mode, or epoll.
public struct FuzzTarget: Sendable, Hashable, CustomStringConvertible {
    public let backend: Backend
    let mode: RingConfiguration.TaskRunMode

    public static let ioUringDeferred = FuzzTarget(backend: .ioUring, mode: .deferred)
    public static let ioUringCooperative = FuzzTarget(backend: .ioUring, mode: .cooperative)
    public static let ioUringSignal = FuzzTarget(backend: .ioUring, mode: .signal)
    public static let epoll = FuzzTarget(backend: .epoll, mode: .deferred)
    public static let all = [ioUringDeferred, ioUringCooperative, ioUringSignal, epoll]

    /// `io_uring-deferred`, `io_uring-cooperative`, `io_uring-signal` or `epoll`.
    public var description: String {
        guard backend == .ioUring else { return "epoll" }
        return switch mode {
        case .deferred: "io_uring-deferred"
        case .cooperative: "io_uring-cooperative"
        case .signal: "io_uring-signal"
        }
    }

    init(backend: Backend, mode: RingConfiguration.TaskRunMode) {
        self.backend = backend
        self.mode = mode
    }

    public init?(name: String) {
        guard let target = FuzzTarget.all.first(where: { $0.description == name }) else { return nil }
        self = target
    }
}

/// The ring of one episode, derived from its seed: tiny, so that the CQ overflows.
public struct RingSizes: Sendable, CustomStringConvertible {
    public var submissionEntries: UInt32
    public var completionEntries: UInt32

    public init(seed: UInt64) {
        var random = SplitMix64(seed: seed ^ 0x5EED_0F_21)
        completionEntries = UInt32.random(in: 1...8, using: &random)
        submissionEntries = UInt32.random(in: 1...completionEntries, using: &random)
    }

    public var description: String { "SQ \(submissionEntries), CQ \(completionEntries)" }
}
