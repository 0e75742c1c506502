import Glibc

/// The load side: this same executable started again as `ringpoll-bench __load …`, which runs
/// the C clients of `CLoad` in a process of its own (its CPU time is never server time, and it
/// has a descriptor limit of its own). The conversation is described in CLoad/load_main.c.
final class LoadProcess {
    enum Mode: String { case pingpong, churn }

    /// What the load measured in its timed phase.
    struct Result {
        var operations: UInt64
        var elapsedNanoseconds: UInt64
        var p50Nanoseconds: UInt64
        var p99Nanoseconds: UInt64
    }

    private let pid: pid_t
    private let toChild: Int32
    private let fromChild: LineReader

    init(mode: Mode, port: UInt16, connections: Int, warmupMilliseconds: Int, durationMilliseconds: Int) throws(BenchError) {
        let arguments = ["ringpoll-bench", "__load", mode.rawValue, "\(port)", "\(connections)",
                         "\(warmupMilliseconds)", "\(durationMilliseconds)"]
        var input: [Int32] = [0, 0], output: [Int32] = [0, 0]
        guard pipe(&input) == 0, pipe(&output) == 0 else {
            throw BenchError("pipe", errno: errno)
        }
        // Only the child's copies (dup2-ed to 0 and 1) may survive the exec.
        for fd in input + output { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var child = pid_t()
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let spawned = posix_spawn(&child, "/proc/self/exe", &actions, nil, cArguments, environ)
        close(input[0])
        close(output[1])
        guard spawned == 0 else {
            close(input[1])
            close(output[0])
            throw BenchError("posix_spawn of the load process", errno: spawned)
        }
        pid = child
        toChild = input[1]
        fromChild = LineReader(fd: output[0])
    }

    /// Waits until connections are up and warmed up, with nothing in flight.
    func waitUntilReady() throws(BenchError) {
        let line = try fromChild.readLine()
        guard line == "ready" else { throw BenchError("load process: \(line)") }
    }

    /// Starts the timed phase.
    func go() {
        send("go\n")
    }

    /// Waits for the timed phase to end; nothing is in flight then.
    func waitForResult() throws(BenchError) -> Result {
        let line = try fromChild.readLine()
        guard line.hasPrefix("result ") else { throw BenchError("load process: \(line)") }
        var fields: [Substring: UInt64] = [:]
        for pair in line.dropFirst(7).split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { fields[parts[0]] = UInt64(parts[1]) }
        }
        return Result(operations: fields["ops"] ?? 0, elapsedNanoseconds: fields["ns"] ?? 0,
                      p50Nanoseconds: fields["p50"] ?? 0, p99Nanoseconds: fields["p99"] ?? 0)
    }

    /// Lets the load close its connections and exit, and reaps it.
    func finish() {
        send("exit\n")
        close(toChild)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        fromChild.close()
    }

    private func send(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(toChild, bytes.baseAddress, bytes.count) }
    }
}

/// Lines from a pipe, read with plain read(2).
final class LineReader {
    private let fd: Int32
    private var pending: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
    }

    func readLine() throws(BenchError) -> String {
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw BenchError("the load process ended without answering") }
            pending.append(contentsOf: chunk[..<count])
        }
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
