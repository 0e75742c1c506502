import Glibc
@_spi(Tuning) import RingPoll

/// Ring setup failing for want of memory, for real: with RLIMIT_AS a megabyte above what the
/// process maps, liburing cannot map a large ring (the kernel made it; the mmap of its 3 MiB of
/// queues fails) and `io_uring_queue_init` returns -ENOMEM. `Poll(backend: .ioUring)` must throw
/// `Errno.noMemory`, `.automatic` must fall back to epoll, a poll made before keeps working,
/// and once the limit is lifted the same ring is made and polls.
struct RingMemoryPressure {
    let report: Report
    private let large = RingConfiguration(submissionEntries: 32_768, completionEntries: 65_536)

    init(report: Report) {
        self.report = report
    }

    func run() {
        guard case .success(let before) = outcome({ () throws(Errno) in try Poll(backend: .ioUring) }),
              case .success(let beforeWaker) = outcome({ () throws(Errno) in try Waker(registry: before.registry, token: Token(7)) }) else {
            report.check("an io_uring poll before the pressure", false, "io_uring unavailable?")
            return
        }
        let unpressured = outcome { () throws(Errno) in try Poll(backend: .ioUring, ringConfiguration: large) }
        report.check("the large ring is made without pressure", (try? unpressured.get()) != nil, "\(unpressured)")
        drop(unpressured)

        var saved = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &saved)
        var limit = saved
        limit.rlim_cur = rlim_t(mappedBytes() + (1 << 20))
        report.check("RLIMIT_AS lowered to 1 MiB above the mapped size", setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit) == 0, "\(Errno(rawValue: errno))")

        let refused = outcome { () throws(Errno) in try Poll(backend: .ioUring, ringConfiguration: large) }
        report.check("Poll(backend: .ioUring) throws noMemory", error(of: refused) == .noMemory, "\(refused)")
        let fallback = outcome { () throws(Errno) in try Poll(backend: .automatic, ringConfiguration: large) }
        let fellBack = (try? fallback.get())?.backend
        report.check(".automatic falls back to epoll", fellBack == .epoll, "\(fallback), backend \(String(describing: fellBack))")
        if case .success(let poll) = fallback, case .success(let waker) = outcome({ () throws(Errno) in try Waker(registry: poll.registry, token: Token(1)) }) {
            _ = try? waker.wake()
            let seen = pollUntil(poll) { $0.contains { $0.token == Token(1) } }
            report.check("and the epoll poll works", (try? seen.get())?.contains { $0.token == Token(1) } == true, "\(seen)")
        }
        _ = try? beforeWaker.wake()
        let old = pollUntil(before) { $0.contains { $0.token == Token(7) } }
        report.check("a poll made before keeps working under the pressure", (try? old.get())?.contains { $0.token == Token(7) } == true, "\(old)")

        report.check("RLIMIT_AS restored", setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &saved) == 0, "\(Errno(rawValue: errno))")
        let after = outcome { () throws(Errno) in try Poll(backend: .ioUring, ringConfiguration: large) }
        report.check("the large ring is made once the pressure is gone", (try? after.get())?.backend == .ioUring, "\(after)")
        if case .success(let poll) = after, case .success(let waker) = outcome({ () throws(Errno) in try Waker(registry: poll.registry, token: Token(2)) }) {
            _ = try? waker.wake()
            let seen = pollUntil(poll) { $0.contains { $0.token == Token(2) } }
            report.check("and it polls", (try? seen.get())?.contains { $0.token == Token(2) } == true, "\(seen)")
        }
    }

    private func drop(_ poll: consuming Result<Poll, Errno>) {}

    /// VmSize of /proc/self/status, in bytes.
    private func mappedBytes() -> Int {
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8_192)
        let count = read(fd, &bytes, bytes.count)
        guard count > 0 else { return 0 }
        let text = String(decoding: bytes[..<count], as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmSize:") }) else { return 0 }
        return (Int(line.filter { $0.isNumber }) ?? 0) * 1_024
    }
}
