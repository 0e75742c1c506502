import Glibc
@_spi(Tuning) import RingPoll

/// RLIMIT_NOFILE reached while a registered listener has a connection waiting: accept throws
/// `Errno.tooManyOpenFiles`, the listener stays registered, and once descriptors are free the
/// waiting connection is accepted and new ones are reported. Polls keep working throughout; a
/// poll that moves threads (io_uring needs a descriptor for the new ring) and a new `Poll` throw
/// `Errno.tooManyOpenFiles` while the table is full and work once it is not.
struct DescriptorExhaustion {
    let backend: Backend
    let report: Report
    private var placeholders: [CInt] = []

    init(backend: Backend, report: Report) {
        self.backend = backend
        self.report = report
    }

    /// Fills the descriptor table up to a lowered limit with duplicates of /dev/null.
    private mutating func fillTable() {
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        while true {
            let fd = fcntl(null, F_DUPFD_CLOEXEC, 0)
            if fd < 0 {
                report.check("the table fills up with EMFILE", errno == EMFILE, "dup failed with \(Errno(rawValue: errno))")
                break
            }
            placeholders.append(fd)
        }
        placeholders.append(null)
    }

    private mutating func free(_ count: Int) {
        for _ in 0..<count { if let fd = placeholders.popLast() { close(fd) } }
    }

    mutating func run() {
        guard case .success(let poll) = outcome({ () throws(Errno) in try Poll(backend: backend) }),
              case .success(let listener) = outcome({ () throws(Errno) in try TCPListener.bind(SocketAddress(ip: .loopbackV4, port: 0)) }),
              case .success(let address) = outcome({ () throws(Errno) in try listener.localAddress() }),
              case .success = outcome({ () throws(Errno) in try poll.registry.register(listener, token: Token(0), interests: .readable) }) else {
            report.check("setup", false, "poll or listener")
            return
        }
        report.check("backend is \(backend)", poll.backend == backend, "\(poll.backend)")
        // Sockets made while descriptors are free; they connect once the table is full.
        let first = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let second = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(first); close(second) }

        // A small limit, so filling the table is quick: the highest number in use plus a few.
        var highest: CInt = 0
        for fd in 0..<4_096 where fcntl(CInt(fd), F_GETFD) >= 0 { highest = CInt(fd) }
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = rlim_t(highest + 8)
        report.check("RLIMIT_NOFILE lowered", setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, "\(Errno(rawValue: errno))")
        fillTable()

        report.check("a loopback connect needs no descriptor", connect(first, address) == 0, "\(Errno(rawValue: errno))")
        let arrival = pollUntil(poll) { $0.contains { $0.token == Token(0) } }
        report.check("the waiting connection is reported while the table is full",
                     (try? arrival.get())?.contains { $0.token == Token(0) && $0.isReadable } == true, "\(arrival)")
        let refused = outcome { () throws(Errno) in try listener.accept() }
        report.check("accept throws tooManyOpenFiles", error(of: refused) == .tooManyOpenFiles, "\(refused)")
        let quiet = pollUntil(poll, within: .milliseconds(100)) { _ in false }
        report.check("poll works while the table is full", (try? quiet.get()) != nil, "\(quiet)")

        if backend == .ioUring {
            let moved = onNewThread { pollUntil(poll, within: .milliseconds(50)) { _ in false } }
            report.check("a poll moving threads throws tooManyOpenFiles (no descriptor for the new ring)",
                         error(of: moved) == .tooManyOpenFiles, "\(moved)")
        }
        let fresh = outcome { () throws(Errno) in try Poll(backend: backend) }
        report.check("a new Poll throws tooManyOpenFiles", error(of: fresh) == .tooManyOpenFiles, "\(fresh)")
        let automatic = outcome { () throws(Errno) in try Poll(backend: .automatic) }
        report.check("a new automatic Poll throws tooManyOpenFiles", error(of: automatic) == .tooManyOpenFiles, "\(automatic)")

        // Descriptors free again: the connection that waited is accepted, without a new event.
        free(3)
        let accepted = outcome { () throws(Errno) in try listener.accept() }
        report.check("the waiting connection is accepted once descriptors are free", (try? accepted.get()) != nil, "\(accepted)")
        guard case .success(let (stream, _)) = accepted else { return }
        _ = send(first, "ping", 4, Int32(MSG_NOSIGNAL))
        _ = outcome { () throws(Errno) in try poll.registry.register(stream, token: Token(1), interests: .readable) }
        // The poll, moved to a new thread once more, rebuilds its ring now that it can.
        let data = onNewThread { pollUntil(poll) { $0.contains { $0.token == Token(1) } } }
        report.check("the accepted stream reports its data, on a poll that moved threads",
                     (try? data.get())?.contains { $0.token == Token(1) && $0.isReadable } == true, "\(data)")
        var bytes = [UInt8](repeating: 0, count: 8)
        let read = outcome { () throws(Errno) in try stream.read(into: &bytes) }
        report.check("and the data is intact", (try? read.get()) == 4 && bytes[..<4] == Array("ping".utf8)[...], "\(read)")

        // The listener is still registered: a new connection is reported and accepted.
        report.check("a second connect", connect(second, address) == 0, "\(Errno(rawValue: errno))")
        let next = pollUntil(poll) { $0.contains { $0.token == Token(0) } }
        report.check("the listener reports a new connection", (try? next.get())?.contains { $0.token == Token(0) } == true, "\(next)")
        let again = outcome { () throws(Errno) in try listener.accept() }
        report.check("and accepts it", (try? again.get()) != nil, "\(again)")

        free(placeholders.count)
        let later = outcome { () throws(Errno) in try Poll(backend: backend) }
        report.check("a new Poll works once the table is free", (try? later.get()) != nil, "\(later)")
    }

    private func connect(_ fd: CInt, _ address: SocketAddress) -> CInt {
        var native = sockaddr_in()
        native.sin_family = sa_family_t(AF_INET)
        native.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        native.sin_port = address.port.bigEndian
        return withUnsafePointer(to: &native) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
