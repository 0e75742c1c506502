import Glibc
import Testing
@testable import RingPoll

/// An example program (built next to the test bundle) running as a child process, with its
/// standard output and error read through a pipe. Every wait is bounded by poll(2) with a
/// deadline; a child still running when the value goes away is killed.
final class ExampleProcess {
    let pid: pid_t
    private let output: PipeReceiver
    private var pending = LineBuffer()
    private var endOfOutput = false
    private var exitStatus: CInt?
    /// Every line read so far, for failure messages.
    private(set) var transcript: [String] = []

    /// The directory of the running test binary, where SwiftPM puts the example executables.
    static var buildDirectory: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(length > 0, "readlink failed: \(errno)")
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<path.lastIndex(of: "/")!])
    }

    /// Starts `name` with `arguments` and `RINGPOLL_BACKEND` set for `backend`, with default
    /// signal handling and an empty signal mask (test-runner threads may block signals, and a
    /// spawned child would inherit that).
    init(_ name: String, _ arguments: [String], backend: Backend) throws {
        let path = ExampleProcess.buildDirectory + "/" + name
        guard access(path, X_OK) == 0 else { throw Errno.noSuchFileOrDirectory }
        let (sender, receiver) = try makePipe()  // both close-on-exec from birth
        try sender.setNonBlocking(false)          // the child's stdout: plain blocking writes
        output = receiver

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, sender.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, sender.fileDescriptor, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment: [String] = []
        var entry = environ
        while let variable = entry.pointee {
            let text = String(cString: variable)
            if !text.hasPrefix("RINGPOLL_BACKEND=") { environment.append(text) }
            entry += 1
        }
        environment.append("RINGPOLL_BACKEND=\(backend == .epoll ? "epoll" : "io_uring")")

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        try sender.close()  // only the child writes now: its exit ends our reads
        guard result == 0 else { throw Errno(rawValue: result) }
        pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: CInt = 0
            waitpid(pid, &status, 0)
        }
    }

    /// The next line of output (without its newline), or nil at the end of output or when
    /// `limit` passes.
    func nextLine(within limit: Duration = .seconds(10)) -> String? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while true {
            if let line = pending.nextLine() {
                transcript.append(line)
                return line
            }
            if endOfOutput || clock.now >= end { return nil }
            fill(until: end)
        }
    }

    /// Reads lines until one contains `text`; returns it, or nil.
    func line(containing text: String, within limit: Duration = .seconds(10)) -> String? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while let line = nextLine(within: end - clock.now) {
            if line.contains(text) { return line }
        }
        return nil
    }

    func signal(_ signal: CInt) {
        kill(pid, signal)
    }

    /// Reads the rest of the output until the child closes it (it exits), then reaps the child.
    /// Returns its exit code, 128 + n when signal n killed it, or nil if it did not exit in time
    /// (then it is killed).
    func waitForExit(within limit: Duration = .seconds(10)) -> CInt? {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while !endOfOutput && clock.now < end { fill(until: end) }
        while let _ = nextLine(within: .zero) {}
        guard endOfOutput else { return nil }
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = status
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Waits for output (up to `end`) and appends what is there.
    private func fill(until end: ContinuousClock.Instant) {
        let left = end - ContinuousClock.now
        var probe = pollfd(fd: output.fileDescriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
        _ = Glibc.poll(&probe, 1, Int32(clamping: milliseconds))
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            do throws(Errno) {
                let count = try output.read(into: &chunk)
                if count == 0 { endOfOutput = true; return }
                pending.append(chunk[..<count])
            } catch {
                if error != .wouldBlock && error != .interrupted { endOfOutput = true }
                return
            }
        }
    }
}
