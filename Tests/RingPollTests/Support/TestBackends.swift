import Glibc
import Testing
@_spi(Tuning) @testable import RingPoll

/// The backends every semantic test runs on: both, unless `RINGPOLL_BACKEND` pins one (CI runs
/// the suite once more with `RINGPOLL_BACKEND=epoll`).
enum TestBackends {
    static let all: [Backend] = {
        switch getenv("RINGPOLL_BACKEND").map({ String(cString: $0) }) {
        case "epoll": [.epoll]
        case "io_uring": [.ioUring]
        default: [.ioUring, .epoll]
        }
    }()

    /// io_uring in each task-work mode, plus epoll: for the paths that differ by mode
    /// (overflow, thread ownership).
    static let withRingModes: [BackendUnderTest] = all.flatMap { backend -> [BackendUnderTest] in
        guard backend == .ioUring else { return [BackendUnderTest(backend: .epoll)] }
        return [RingConfiguration.TaskRunMode.deferred, .cooperative, .signal].map {
            BackendUnderTest(backend: .ioUring, mode: $0)
        }
    }
}

/// A backend, and for io_uring the ring's task-work mode.
struct BackendUnderTest: Sendable, CustomStringConvertible {
    var backend: Backend
    var mode = RingConfiguration.TaskRunMode.deferred

    var description: String {
        backend == .ioUring ? "io_uring(\(mode))" : "\(backend)"
    }

    func makePoll(submissionEntries: UInt32 = 512, completionEntries: UInt32 = 4096) throws -> Poll {
        try Poll(backend: backend, ringConfiguration: RingConfiguration(
            submissionEntries: submissionEntries, completionEntries: completionEntries, taskRunMode: mode))
    }
}

/// Tests that hold thousands of descriptors. They run one at a time, so that together with
/// everything else they stay under the descriptor limit (20,000 here, and not raisable without
/// CAP_SYS_RESOURCE).
@Suite(.serialized) enum ManyDescriptorTests {}

/// Raises the descriptor limit once per process, so that tests with thousands of sources can run
/// side by side. Returns the soft limit in force.
@discardableResult
func raiseDescriptorLimit() -> Int {
    DescriptorLimit.raised
}

private enum DescriptorLimit {
    static let raised: Int = {
        var limit = rlimit()
        getrlimit(RLIMIT_NOFILE_VALUE, &limit)
        var wanted = rlimit(rlim_cur: 262_144, rlim_max: max(262_144, limit.rlim_max))
        if setrlimit(RLIMIT_NOFILE_VALUE, &wanted) != 0 {
            limit.rlim_cur = limit.rlim_max
            setrlimit(RLIMIT_NOFILE_VALUE, &limit)
        }
        getrlimit(RLIMIT_NOFILE_VALUE, &limit)
        return Int(limit.rlim_cur)
    }()
}

private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
