// Conformance port of mio's integration tests: what mio's `tests/util/mod.rs` provides.
//
// Read from tokio-rs/mio at tag v1.2.2 (commit 50ee78de7497f10b941772a94625b9b6b61facba). These
// helpers are written for RingPoll from what each mio helper does; none of mio's code is copied.
//
// How the helpers differ from mio's:
// - `MioPoll.expectEvents` accepts events in any order and ignores unexpected ones, as mio's
//   `expect_events` does, but it keeps polling (500 ms at a time) for up to 5 s instead of three
//   polls, because the suite runs in parallel on two cores. It stops as soon as all are seen.
// - Every wait is bounded. mio's peers are blocking `std` sockets on helper threads; here the peers
//   are RingPoll sockets whose waits go through poll(2) with a deadline (`waitFor`/`retrying` from
//   Net/NetTestSupport.swift), and mio's `Barrier` is `MioBarrier`, whose waits time out.
// - Failures on helper threads are not recorded from those threads (Swift Testing attributes
//   issues to the test's task); the thread returns a description and `join` records it.
// - mio's `temp_file` becomes `temporarySocketPath` (unique per call; the test unlinks it).
// - Every name is prefixed with `Mio` so that it cannot clash with other test support files.

import Glibc
import Testing
@testable import RingPoll

// MARK: Expected events (util::ExpectEvent, util::Readiness)

/// The readiness an expected event must show; an event matches when it has at least these flags
/// (mio's `Readiness`, without AIO and LIO, which exist on FreeBSD only).
struct MioReadiness: OptionSet, Sendable, CustomStringConvertible {
    let rawValue: UInt8

    static let readable = MioReadiness(rawValue: 1 << 0)
    static let writable = MioReadiness(rawValue: 1 << 1)
    static let error = MioReadiness(rawValue: 1 << 2)
    static let readClosed = MioReadiness(rawValue: 1 << 3)
    static let writeClosed = MioReadiness(rawValue: 1 << 4)
    static let priority = MioReadiness(rawValue: 1 << 5)

    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// mio's `From<Interest> for Readiness`.
    init(_ interest: Interest) {
        var readiness: MioReadiness = []
        if interest.isReadable { readiness.insert(.readable) }
        if interest.isWritable { readiness.insert(.writable) }
        if interest.isPriority { readiness.insert(.priority) }
        self = readiness
    }

    /// Every expected flag is present on `event` (p → q for each flag).
    func matches(_ event: Event) -> Bool {
        (!contains(.readable) || event.isReadable)
            && (!contains(.writable) || event.isWritable)
            && (!contains(.error) || event.isError)
            && (!contains(.readClosed) || event.isReadClosed)
            && (!contains(.writeClosed) || event.isWriteClosed)
            && (!contains(.priority) || event.isPriority)
    }

    var description: String {
        var names: [String] = []
        if contains(.readable) { names.append("READABLE") }
        if contains(.writable) { names.append("WRITABLE") }
        if contains(.error) { names.append("ERROR") }
        if contains(.readClosed) { names.append("READ_CLOSED") }
        if contains(.writeClosed) { names.append("WRITE_CLOSED") }
        if contains(.priority) { names.append("PRIORITY") }
        return names.joined(separator: " | ")
    }
}

/// An event `expectEvents` waits for: its token and the readiness it must at least carry.
struct MioExpectEvent: CustomStringConvertible {
    let token: Token
    let readiness: MioReadiness

    /// mio's `ExpectEvent::new(token, Interest::…)` is written `MioExpectEvent(token, .readable)`;
    /// for an `Interest` value, pass `MioReadiness(interest)`.
    init(_ token: Token, _ readiness: MioReadiness) {
        self.token = token
        self.readiness = readiness
    }

    func matches(_ event: Event) -> Bool {
        event.token == token && readiness.matches(event)
    }

    var description: String { "\(token): \(readiness)" }
}

// MARK: The poll under test (util::init_with_poll, expect_events, expect_no_events)

/// mio's `init_with_poll()`: a `Poll` on the backend under test and `Events` of capacity 16,
/// with the expectations mio's tests use. A class, so that event-loop closures can use the
/// registry while the loop polls.
final class MioPoll {
    let poll: Poll
    var events: Events

    init(_ backend: Backend, capacity: Int = 16) throws {
        poll = try Poll(backend: backend)
        events = Events(capacity: capacity)
    }

    var registry: Registry { poll.registry }

    /// One poll (retrying EINTR) with a timeout; returns what it delivered.
    @discardableResult
    func pollOnce(timeout: Duration?) throws -> [Event] {
        try poll.pollRetrying(&events, timeout: timeout)
        return Array(events)
    }

    /// Polls until every expected event has been seen (in any order, other events ignored), for
    /// at most `limit`. Returns every event seen.
    @discardableResult
    func expectEvents(
        _ expected: [MioExpectEvent], within limit: Duration = .seconds(5),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Event] {
        var missing = expected
        var seen: [Event] = []
        let clock = ContinuousClock()
        let end = clock.now + limit
        while !missing.isEmpty {
            let left = end - clock.now
            if left <= .zero { break }
            try poll.pollRetrying(&events, timeout: min(left, .milliseconds(500)))
            for event in events {
                seen.append(event)
                if let index = missing.firstIndex(where: { $0.matches(event) }) {
                    missing.remove(at: index)
                }
            }
        }
        #expect(missing.isEmpty, "expected events not found: \(missing); seen: \(seen)", sourceLocation: sourceLocation)
        return seen
    }

    /// mio's `expect_no_events`: one poll of 50 ms returns nothing.
    func expectNoEvents(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try poll.pollRetrying(&events, timeout: .milliseconds(50))
        #expect(events.isEmpty, "unexpected events: \(Array(events))", sourceLocation: sourceLocation)
    }

    /// The shape of mio's hand-written loops (`while !shutdown { poll(None); for event … }`),
    /// bounded: `handle` sees every event and returns `true` once the loop should end after the
    /// current batch. Records an issue and returns `false` if `limit` passes first.
    @discardableResult
    func eventLoop(
        within limit: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
        _ handle: (Event) throws -> Bool
    ) throws -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while true {
            let left = end - clock.now
            if left <= .zero {
                Issue.record("the event loop did not finish within \(limit)", sourceLocation: sourceLocation)
                return false
            }
            try poll.pollRetrying(&events, timeout: min(left, .milliseconds(500)))
            var done = false
            for event in Array(events) {
                if try handle(event) { done = true }
            }
            if done { return true }
        }
    }

    /// mio's `while events.is_empty() { poll(None) }`, bounded: the first non-empty batch.
    func pollUntilNotEmpty(
        within limit: Duration = .seconds(5), sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [Event] {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            try poll.pollRetrying(&events, timeout: min(end - clock.now, .milliseconds(500)))
            if !events.isEmpty { return Array(events) }
        }
        Issue.record("no events within \(limit)", sourceLocation: sourceLocation)
        return []
    }
}

// MARK: Assertions (util::assert_would_block, assert_error, checked_write!, expect_read!)

enum Mio {
    /// `127.0.0.1:0` (mio's `any_local_address`).
    static var anyLocalAddress: SocketAddress { SocketAddress(ip: .loopbackV4, port: 0) }
    /// `[::1]:0` (mio's `any_local_ipv6_address`).
    static var anyLocalIPv6Address: SocketAddress { SocketAddress(ip: .loopbackV6, port: 0) }

    /// mio's `assert_would_block`: `body` throws `Errno.wouldBlock`.
    static func assertWouldBlock<T>(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
        assertError(.wouldBlock, sourceLocation: sourceLocation, body)
    }

    /// mio's `assert_error`, with the contract's `Errno` in place of the error's text.
    static func assertError<T>(_ expected: Errno, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
        let result: Result<T, any Error> = Result { try body() }
        switch result {
        case .success:
            Issue.record("unexpected success, expected \(expected)", sourceLocation: sourceLocation)
        case .failure(let error):
            #expect((error as? Errno) == expected, "expected \(expected), got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// mio's `checked_write!`: one write call takes all of `data`.
    static func checkedWrite(_ data: [UInt8], sourceLocation: SourceLocation = #_sourceLocation, _ write: ([UInt8]) throws -> Int) {
        let result: Result<Int, any Error> = Result { try write(data) }
        switch result {
        case .success(let count):
            #expect(count == data.count, "short write", sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record("unable to write: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// mio's `expect_read!`: one read into a buffer of `bufferSize` returns exactly `expected`.
    static func expectRead(
        _ expected: [UInt8], bufferSize: Int = 64, sourceLocation: SourceLocation = #_sourceLocation,
        _ read: (inout [UInt8]) throws -> Int
    ) {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        let result: Result<Int, any Error> = Result { try read(&buffer) }
        switch result {
        case .success(let count):
            #expect(count == expected.count, sourceLocation: sourceLocation)
            #expect(Array(buffer.prefix(count)) == expected, sourceLocation: sourceLocation)
        case .failure(let error):
            Issue.record("unable to read: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// mio's `expect_read!` for `recv_from`/`peek_from`: exactly `expected`, sent from `source`
    /// (`nil`: any sender, mio's `__anywhere`).
    static func expectReadFrom<Address: Equatable>(
        _ expected: [UInt8], source: Address?, bufferSize: Int = 64,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ read: (inout [UInt8]) throws -> (count: Int, address: Address)
    ) {
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        let result: Result<(count: Int, address: Address), any Error> = Result { try read(&buffer) }
        switch result {
        case .success(let received):
            #expect(received.count == expected.count, sourceLocation: sourceLocation)
            #expect(Array(buffer.prefix(received.count)) == expected, sourceLocation: sourceLocation)
            if let source {
                #expect(received.address == source, sourceLocation: sourceLocation)
            }
        case .failure(let error):
            Issue.record("unable to read: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// std's `write_all` on a non-blocking socket, bounded: writes everything, waiting (poll(2),
    /// at most `limit` in all) whenever the socket would block.
    static func writeAll(
        _ data: [UInt8], to fd: CInt, within limit: Duration = .seconds(10),
        _ write: (UnsafeRawBufferPointer) throws -> Int
    ) throws(Errno) {
        var offset = 0
        let clock = ContinuousClock()
        let end = clock.now + limit
        while offset < data.count {
            let left = end - clock.now
            guard left > .zero else { throw .timedOut }
            let written = try retrying(fd, POLLOUT, within: left) { () throws(Errno) -> Int in
                try withBytes(of: data) { bytes throws(Errno) in
                    try typed { try write(UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
                }
            }
            offset += written
        }
    }

    /// Runs an untyped-throwing closure (Swift infers `any Error` for closures that are not
    /// annotated) where a `throws(Errno)` one is needed. RingPoll only throws `Errno`.
    static func typed<T>(_ body: () throws -> T) throws(Errno) -> T {
        do {
            return try body()
        } catch let error as Errno {
            throw error
        } catch {
            Issue.record("unexpected error type: \(error)")
            throw .ioError
        }
    }

    /// mio's `assert_socket_non_blocking`.
    static func assertNonBlocking(_ fd: CInt, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0, "socket not non-blocking", sourceLocation: sourceLocation)
    }

    /// mio's `assert_socket_close_on_exec`.
    static func assertCloseOnExec(_ fd: CInt, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0, "socket flag CLOEXEC not set", sourceLocation: sourceLocation)
    }

    /// mio's `set_linger_zero`: closing the socket then resets the connection.
    static func setLingerZero(_ fd: CInt, sourceLocation: SourceLocation = #_sourceLocation) {
        var value = linger(l_onoff: 1, l_linger: 0)
        let result = setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        #expect(result == 0, sourceLocation: sourceLocation)
    }

    /// mio's `assert_send::<T>()` and `assert_sync::<T>()`: Swift's `Sendable` covers both. The
    /// check happens at compile time.
    static func assertSendable<T: Sendable>(_: T.Type) {}
}

// MARK: Helper threads (std::thread, std::sync::Barrier)

/// A failure on a helper thread, carried back to the test.
struct MioPeerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A helper thread standing in for mio's `thread::spawn` peers. The body's error (or a timeout
/// of `join`) is recorded as an issue of the test that joins it.
final class MioThread: Sendable {
    private let thread: TestThread<String?>

    init(_ body: @escaping @Sendable () throws -> Void) {
        thread = TestThread { () -> String? in
            do {
                try body()
                return nil
            } catch {
                return "helper thread failed: \(error)"
            }
        }
    }

    /// Waits (bounded) for the body; records its failure, if any.
    func join(within limit: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation) {
        guard let failure = thread.result(within: limit) else {
            Issue.record("helper thread did not finish within \(limit)", sourceLocation: sourceLocation)
            return
        }
        thread.join()
        if let failure {
            Issue.record(Comment(rawValue: failure), sourceLocation: sourceLocation)
        }
    }
}

/// mio's `Barrier`, with bounded waits: `wait` returns `false` when the other parties do not
/// arrive within the limit (the barrier is then broken, as the test has failed anyway).
final class MioBarrier: @unchecked Sendable {  // state guarded by `mutex`
    private let parties: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var arrived = 0
    private var generation = 0

    init(_ parties: Int) {
        self.parties = parties
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    @discardableResult
    func wait(within limit: Duration = .seconds(10)) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let mine = generation
        arrived += 1
        if arrived == parties {
            arrived = 0
            generation += 1
            pthread_cond_broadcast(condition)
            return true
        }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let (seconds, attoseconds) = limit.components
        var nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        nanoseconds %= 1_000_000_000
        deadline.tv_nsec = nanoseconds
        while generation == mine {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT, generation == mine {
                return false
            }
        }
        return true
    }

    /// `wait` for helper threads: a timeout throws.
    func arrive(within limit: Duration = .seconds(10)) throws {
        guard wait(within: limit) else { throw MioPeerFailure("barrier timed out") }
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }
}

// MARK: std-made sockets (for mio's `from_std` and `from_raw_fd` tests)

/// Sockets made the way Rust's `std` makes them: blocking, close-on-exec, without RingPoll. mio's
/// `from_std` tests wrap them after `set_nonblocking(true)`; RingPoll's `init(adopting:)` makes
/// them non-blocking itself. Each returns the raw descriptor, which the caller adopts.
enum MioStd {
    private static func socket(_ domain: CInt, _ type: Int32) throws(Errno) -> CInt {
        let fd = Glibc.socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        return fd
    }

    private static func check(_ result: CInt, closing fd: CInt) throws(Errno) {
        guard result == 0 else {
            let error = Errno(rawValue: errno)
            close(fd)
            throw error
        }
    }

    /// `std::net::TcpListener::bind`.
    static func tcpListener(_ address: SocketAddress) throws(Errno) -> CInt {
        let fd = try socket(address.family, Int32(SOCK_STREAM.rawValue))
        var on: CInt = 1
        try check(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<CInt>.size)), closing: fd)
        try check(address.withNative { pointer, length in Glibc.bind(fd, pointer, length) }, closing: fd)
        try check(listen(fd, 128), closing: fd)
        return fd
    }

    /// getsockname(2) on a raw descriptor, for the `raw_fd` tests.
    static func localAddress<Address: NativeAddress>(_ fd: CInt, as _: Address.Type = Address.self) throws(Errno) -> Address {
        let (result, address) = try Address.receiving { pointer, length throws(Errno) in getsockname(fd, pointer, length) }
        guard result == 0 else { throw Errno(rawValue: errno) }
        return address
    }

    /// `std::net::TcpStream::connect`: returns once connected.
    static func tcpConnect(_ address: SocketAddress) throws(Errno) -> CInt {
        let fd = try socket(address.family, Int32(SOCK_STREAM.rawValue))
        try check(address.withNative { pointer, length in Glibc.connect(fd, pointer, length) }, closing: fd)
        return fd
    }

    /// `std::net::UdpSocket::bind`.
    static func udpBind(_ address: SocketAddress) throws(Errno) -> CInt {
        let fd = try socket(address.family, Int32(SOCK_DGRAM.rawValue))
        try check(address.withNative { pointer, length in Glibc.bind(fd, pointer, length) }, closing: fd)
        return fd
    }

    /// `std::net::UdpSocket::connect`.
    static func udpConnect(_ fd: CInt, _ address: SocketAddress) throws(Errno) {
        let result = try address.withNative { pointer, length in Glibc.connect(fd, pointer, length) }
        guard result == 0 else { throw Errno(rawValue: errno) }
    }

    /// `std::os::unix::net::UnixListener::bind`.
    static func unixListener(_ path: String) throws(Errno) -> CInt {
        let fd = try socket(AF_UNIX, Int32(SOCK_STREAM.rawValue))
        let address = try UnixAddress(path: path)
        try check(address.withNative { pointer, length in Glibc.bind(fd, pointer, length) }, closing: fd)
        try check(listen(fd, 128), closing: fd)
        return fd
    }

    /// `std::os::unix::net::UnixStream::connect`.
    static func unixConnect(_ path: String) throws(Errno) -> CInt {
        let fd = try socket(AF_UNIX, Int32(SOCK_STREAM.rawValue))
        let address = try UnixAddress(path: path)
        try check(address.withNative { pointer, length in Glibc.connect(fd, pointer, length) }, closing: fd)
        return fd
    }

    /// `std::os::unix::net::UnixDatagram::bind`.
    static func unixDatagram(_ path: String) throws(Errno) -> CInt {
        let fd = try socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue))
        let address = try UnixAddress(path: path)
        try check(address.withNative { pointer, length in Glibc.bind(fd, pointer, length) }, closing: fd)
        return fd
    }

    /// `std::os::unix::net::UnixDatagram::connect`.
    static func unixDatagramConnect(_ fd: CInt, _ path: String) throws(Errno) {
        let address = try UnixAddress(path: path)
        let result = try address.withNative { pointer, length in Glibc.connect(fd, pointer, length) }
        guard result == 0 else { throw Errno(rawValue: errno) }
    }
}

// MARK: Child processes (std::process::Command with piped stdin and stdout)

/// `cat` as a child process, its standard input and output piped to us (mio's
/// `Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped())`). `stdin` and `stdout` are
/// the parent's ends, blocking and close-on-exec like `ChildStdin`/`ChildStdout`, to be adopted.
final class MioChildProcess {
    let pid: pid_t
    let stdin: CInt
    let stdout: CInt
    private var reaped = false

    init() throws {
        // makePipe() gives close-on-exec ends, so no other test's child inherits them; the
        // child's ends are made blocking (cat expects that) and dup2'd onto 0 and 1 in the child.
        let input = try makePipe()
        let output = try makePipe()
        try input.receiver.setNonBlocking(false)
        try output.sender.setNonBlocking(false)
        try input.sender.setNonBlocking(false)
        try output.receiver.setNonBlocking(false)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input.receiver.fileDescriptor, STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, output.sender.fileDescriptor, STDOUT_FILENO)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("cat"), nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let spawned = posix_spawnp(&child, "cat", &actions, nil, argv, environ)
        guard spawned == 0 else { throw Errno(rawValue: spawned) }
        pid = child

        // The parent keeps its own ends as plain descriptors (duplicates, the RingPoll objects
        // close theirs), like std's ChildStdin and ChildStdout.
        stdin = fcntl(input.sender.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        stdout = fcntl(output.receiver.fileDescriptor, F_DUPFD_CLOEXEC, 0)
        try input.sender.close()
        try output.receiver.close()
        try input.receiver.close()
        try output.sender.close()
        guard stdin >= 0, stdout >= 0 else { throw Errno(rawValue: errno) }
    }

    /// `child.wait()`: call once cat's output has ended (it then exits at once). Returns the
    /// exit status.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        if !reaped {
            waitpid(pid, &status, 0)
            reaped = true
        }
        return status
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
    }
}
