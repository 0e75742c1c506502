import CLiburing
import Glibc
import Synchronization
import SystemPackage

/// Whether io_uring can carry RingPoll in this process.
enum IOUringAvailability: Sendable, Equatable {
    case available
    /// `error` is what asking for `.ioUring` throws; `reason` says why in words.
    case unavailable(Errno, reason: String)
}

/// Probes io_uring: the `io_uring_disabled` sysctl, ring setup (ENOSYS without io_uring, EPERM
/// under seccomp or the sysctl), the opcodes and features RingPoll uses, and a multishot
/// self-test.
enum IOUringProbe {
    private static let confirmed = Atomic<Bool>(false)

    /// The verdict for this process. A positive one is kept; a negative one is not, because it
    /// may be specific to the calling thread (a per-thread seccomp filter) or passing (memory),
    /// and a failing probe costs little: setup is refused at once.
    static var availability: IOUringAvailability {
        if confirmed.load(ordering: .relaxed) { return .available }
        let verdict = run()
        if verdict == .available { confirmed.store(true, ordering: .relaxed) }
        return verdict
    }

    static func run() -> IOUringAvailability {
        if let disabled = readSysctl("/proc/sys/kernel/io_uring_disabled"), disabled == "2" {
            return .unavailable(.notPermitted, reason: "io_uring is disabled by sysctl kernel.io_uring_disabled=2")
        }
        var report = rp_probe_report()
        rp_probe(&report)
        return interpret(report)
    }

    /// The verdict for a probe report; separate from `run` so that tests can feed it reports.
    static func interpret(_ report: rp_probe_report) -> IOUringAvailability {
        if report.setup_errno != 0 {
            let error = Errno(rawValue: report.setup_errno)
            let why = switch error {
            case .noFunction: "the kernel has no io_uring (ENOSYS)"
            case .notPermitted: "io_uring_setup is forbidden (EPERM: seccomp filter or kernel.io_uring_disabled)"
            default: "io_uring_setup failed: \(error)"
            }
            return .unavailable(error, reason: why)
        }
        if report.missing_opcode >= 0 {
            return .unavailable(.notSupported, reason: "the kernel lacks io_uring opcode \(report.missing_opcode)")
        }
        if report.missing_feature != 0 {
            return .unavailable(.notSupported, reason: "the kernel lacks IORING_FEAT_NODROP or IORING_FEAT_EXT_ARG (Linux 5.11)")
        }
        if report.multishot_errno != 0 {
            let error = Errno(rawValue: report.multishot_errno)
            return .unavailable(error, reason: "multishot IORING_OP_POLL_ADD does not work here (Linux 5.13+): \(error)")
        }
        return .available
    }

    private static func readSysctl(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: " \n")
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
