import Glibc
import RingPoll

/// A shipped example program (built next to this executable, because ringpoll-bench depends on
/// its product) run as a process of its own, exactly as a user runs it: `echo-server --port 0
/// --backend …`. Its CPU time is read from every thread of the process, so the figure is what
/// the program costs, runtime included.
final class ExampleProcessServer: EchoServer {
    let port: UInt16
    let threadIDs: [pid_t]
    private let pid: pid_t
    private let output: LineReader
    private let name: String

    /// Starts `program` with `arguments` and waits for its banner, whose fourth word is the
    /// address it listens on ("echo-server listening on 127.0.0.1:PORT (io_uring)").
    init(program: String, arguments: [String]) throws(BenchError) {
        name = program
        let path = ExampleProcessServer.directoryOfThisExecutable() + "/" + program
        guard access(path, X_OK) == 0 else {
            throw BenchError("\(path) is missing: build ringpoll-bench with `swift build`/`swift run`, which builds it")
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw BenchError("pipe", errno: errno) }
        // Only the child's copy (dup2-ed to 1) may survive the exec.
        for fd in pipeEnds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // ringpoll-bench ignores SIGPIPE; the example must start with the defaults a shell gives.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let cArguments = ([program] + arguments).map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var child = pid_t()
        let spawned = posix_spawn(&child, path, &actions, &attributes, cArguments, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw BenchError("posix_spawn of \(program)", errno: spawned)
        }
        pid = child
        output = LineReader(fd: pipeEnds[0])
        do throws(BenchError) {
            let banner = try output.readLine()
            let words = banner.split(separator: " ")
            guard words.count >= 4, let address = try? SocketAddress(String(words[3])) else {
                throw BenchError("\(program) said: \(banner)")
            }
            port = address.port
        } catch {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
            output.close()
            throw error
        }
        threadIDs = ExampleProcessServer.threads(of: child)
    }

    /// SIGTERM, as a service manager stops it; a clean exit is status 0.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        output.close()
        let exited = status & 0x7f == 0
        if !exited || (status >> 8) & 0xff != 0 {
            print("warning: \(name) did not exit cleanly on SIGTERM (wait status \(status))")
        }
    }

    /// Every thread of `process` (the examples are single-threaded; the runtime may add some).
    private static func threads(of process: pid_t) -> [pid_t] {
        guard let directory = opendir("/proc/\(process)/task") else { return [process] }
        defer { closedir(directory) }
        var threads: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let thread = pid_t(name) { threads.append(thread) }
        }
        return threads.isEmpty ? [process] : threads
    }

    private static func directoryOfThisExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "." }
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }
}
