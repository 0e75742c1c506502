import Glibc
import Synchronization
@_spi(Tuning) import RingPoll

/// Counters every part of the soak adds to; read once a minute and at the end.
final class SoakCounters: Sendable {
    enum Name: Int, CaseIterable {
        case bytesVerified, connectionsDone, halfClosesDone, resetsDone, slowReadersDone
        case serverEvents, serverAccepts, crossThreadRegistrations, crossThreadEvents, wakes
        case pollMigrations
        // Failures: every one of these must stay 0.
        case byteMismatches, lostBytes, stuckConnections, lostEvents, staleEvents, lostWakes, unexpectedErrors
    }

    private let values = Mutex<[Int]>(Array(repeating: 0, count: Name.allCases.count))

    func add(_ name: Name, _ amount: Int = 1) {
        values.withLock { $0[name.rawValue] += amount }
    }

    subscript(_ name: Name) -> Int { values.withLock { $0[name.rawValue] } }

    static let failures: [Name] = [.byteMismatches, .lostBytes, .stuckConnections, .lostEvents, .staleEvents, .lostWakes, .unexpectedErrors]
    var failureCount: Int { SoakCounters.failures.reduce(0) { $0 + self[$1] } }
}

/// Tells the threads of the soak to wind down.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// Where failures are described (the first few of each kind are printed).
final class FailureLog: Sendable {
    private let lines = Mutex<[String]>([])

    func record(_ line: String) {
        lines.withLock { lines in
            if lines.count < 50 { lines.append(line) }
        }
        print("FAILURE: \(line)")
        fflush(nil)
    }

    var all: [String] { lines.withLock { $0 } }
}

/// The byte at `offset` of the stream a connection seeded with `seed` sends.
@inline(__always)
func streamByte(_ seed: UInt64, _ offset: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: (seed &+ UInt64(offset) &* 0x9E37_79B9_7F4A_7C15) >> 29)
}

/// A joinable OS thread.
final class SoakThread: @unchecked Sendable {
    private var handle = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        let created = pthread_create(&handle, nil, { context in
            Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, context)
        precondition(created == 0, "pthread_create: \(created)")
    }

    func join() {
        pthread_join(handle, nil)
    }
}

/// Carries a value that is not Sendable to the one thread using it at a time.
final class Handoff<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Descriptors open in this process.
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 3
}

/// Resident set size in KiB (VmRSS of /proc/self/status).
func residentKilobytes() -> Int {
    let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return -1 }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 8_192)
    let count = read(fd, &bytes, bytes.count)
    guard count > 0 else { return -1 }
    let text = String(decoding: bytes[..<count], as: UTF8.self)
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
    return Int(line.filter { $0.isNumber }) ?? -1
}

/// `poll`, retrying EINTR.
func pollRetrying(_ poll: Poll, _ events: inout Events, _ timeout: Duration?) throws(Errno) {
    while true {
        do throws(Errno) {
            try poll.poll(&events, timeout: timeout)
            return
        } catch {
            if error != .interrupted { throw error }
        }
    }
}

/// A small seeded generator for the soak's choices.
struct SoakRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
