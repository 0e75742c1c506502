import Glibc

/// One of the package's example programs, running as a child process whose standard output
/// the test reads. The binaries are built next to the test bundle (the test target depends on
/// them).
final class ExampleProcess {
    let pid: pid_t
    private let output: CInt
    private var buffered: [UInt8] = []

    /// Starts `product` (e.g. "echo-server") with `arguments`.
    init(_ product: String, _ arguments: [String]) throws {
        let path = ExampleProcess.buildDirectory + "/" + product
        var pipe: [CInt] = [-1, -1]
        guard Glibc.pipe(&pipe) == 0 else { throw ExampleError.system("pipe", errno) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], STDOUT_FILENO)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // Test-runner threads block signals, and a spawned child inherits the mask: start it
        // with none blocked, as from a shell.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var child = pid_t()
        let spawned = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        close(pipe[1])
        guard spawned == 0 else {
            close(pipe[0])
            throw ExampleError.system("posix_spawn \(path)", spawned)
        }
        pid = child
        output = pipe[0]
    }

    /// The next line the program prints, waiting at most `limit`.
    func readLine(within limit: Duration = .seconds(10)) throws -> String {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let left = end - clock.now
            guard left > .zero else { throw ExampleError.timedOut("no line from the example") }
            var probe = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            guard Glibc.poll(&probe, 1, milliseconds) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(output, &chunk, chunk.count)
            guard count > 0 else { throw ExampleError.timedOut("the example closed its output") }
            buffered.append(contentsOf: chunk[..<count])
        }
    }

    /// Sends `signal` and waits (at most `limit`) for the program to exit; returns its status.
    func stop(with signal: Int32 = SIGTERM, within limit: Duration = .seconds(10)) throws -> Int32 {
        kill(pid, signal)
        let clock = ContinuousClock()
        let end = clock.now + limit
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard clock.now < end else {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw ExampleError.timedOut("the example ignored signal \(signal)")
            }
            usleep(1_000)  // waiting for another process to exit: nothing to poll on
        }
        return status
    }

    deinit {
        if waitpid(pid, nil, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
        close(output)
    }

    /// The directory of the running test bundle, where SwiftPM put the example binaries.
    static let buildDirectory: String = {
        var path = [CChar](repeating: 0, count: Int(PATH_MAX))
        let count = readlink("/proc/self/exe", &path, path.count - 1)
        let executable = String(decoding: path[..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
    }()
}

enum ExampleError: Error, CustomStringConvertible {
    case system(String, Int32)
    case timedOut(String)

    var description: String {
        switch self {
        case .system(let call, let error): "\(call) failed: \(String(cString: strerror(error)))"
        case .timedOut(let what): what
        }
    }
}
