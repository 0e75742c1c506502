import Glibc
import Synchronization
@_spi(Tuning) import RingPoll

/// What the registrar thread and the polling thread know about the registrar's tokens.
///
/// Stale events are judged by epochs: retiring a token (its deregister or reregister has
/// returned) moves the epoch on and stamps the token with it. An event for a token stamped at or
/// before the epoch read just before the poll started is stale: that poll began after the
/// registration was gone.
final class CrossThreadLedger: Sendable {
    private struct Entry {
        var retiredAt: Int?
        var seen = false
    }

    private let epoch = Atomic<Int>(0)
    private let entries = Mutex<[Int: Entry]>([:])
    private let wakeRequested = Atomic<Int>(0)
    private let wakeSeen = Atomic<Int>(0)

    var currentEpoch: Int { epoch.load(ordering: .acquiring) }

    func expect(_ token: Int) {
        entries.withLock { $0[token] = Entry() }
    }

    func retire(_ token: Int) {
        let stamp = epoch.add(1, ordering: .acquiringAndReleasing).newValue
        entries.withLock { $0[token]?.retiredAt = stamp }
    }

    /// Records an event for `token` in a poll that started at `startEpoch`; false when stale.
    func sawEvent(_ token: Int, startEpoch: Int) -> Bool {
        entries.withLock { entries in
            guard var entry = entries[token] else { return false }
            if let retiredAt = entry.retiredAt, retiredAt <= startEpoch { return false }
            entry.seen = true
            entries[token] = entry
            return true
        }
    }

    func takeSeen(_ token: Int) -> Bool {
        entries.withLock { entries in
            guard entries[token]?.seen == true else { return false }
            entries[token]?.seen = false
            return true
        }
    }

    /// Forgets tokens retired long ago, so the ledger stays small.
    func prune(before stamp: Int) {
        entries.withLock { entries in
            entries = entries.filter { $0.value.retiredAt.map { $0 >= stamp } ?? true }
        }
    }

    /// A wake was requested; returns its number.
    func requestWake() -> Int { wakeRequested.add(1, ordering: .acquiringAndReleasing).newValue }

    /// The poller saw the waker's event: every wake requested so far is answered.
    func wakeObserved(upTo requested: Int) {
        _ = wakeSeen.max(requested, ordering: .acquiringAndReleasing)
    }

    var wakesRequested: Int { wakeRequested.load(ordering: .acquiring) }
    var wakesAnswered: Int { wakeSeen.load(ordering: .acquiring) }
}

/// Registry calls from a thread that never polls, while the server polls: sockets registered,
/// reregistered and deregistered, each registration proven by an event for a byte written to
/// it, each retirement followed by another byte that must not be reported; and wakes.
final class Registrar: @unchecked Sendable {  // used by its own thread only, after start
    static let tokenBase = 1 << 40
    private let registry: Registry
    private let waker: Waker
    private let ledger: CrossThreadLedger
    private let counters: SoakCounters
    private let failures: FailureLog
    private var pairs: [(local: CInt, peer: CInt, token: Int?)] = []
    private var nextToken = Registrar.tokenBase
    private var random: SoakRandom

    init(registry: Registry, waker: Waker, ledger: CrossThreadLedger, counters: SoakCounters, failures: FailureLog, seed: UInt64) throws(Errno) {
        self.registry = registry
        self.waker = waker
        self.ledger = ledger
        self.counters = counters
        self.failures = failures
        random = SoakRandom(seed: seed)
        for _ in 0..<16 {
            var fds: [CInt] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                throw Errno(rawValue: errno)
            }
            pairs.append((fds[0], fds[1], nil))
        }
    }

    /// Runs until `stop`, then deregisters and closes everything.
    func run(stop: StopFlag) {
        var rounds = 0
        while !stop.isSet {
            rounds += 1
            let index = Int.random(in: 0..<pairs.count, using: &random)
            step(index, stop: stop)
            if rounds % 8 == 0 { wakeRound(stop: stop) }
            if rounds % 256 == 0 { ledger.prune(before: ledger.currentEpoch - 1_000) }
        }
        for index in pairs.indices {
            if pairs[index].token != nil { try? registry.deregister(SourceFD(pairs[index].local)) }
            close(pairs[index].local)
            close(pairs[index].peer)
        }
    }

    private func newToken() -> Int {
        nextToken += 1
        return nextToken
    }

    private func step(_ index: Int, stop: StopFlag) {
        let local = pairs[index].local
        if pairs[index].token == nil {
            drain(local)  // leftovers of the stale-event probe
            let token = newToken()
            ledger.expect(token)
            do throws(Errno) {
                try registry.register(SourceFD(local), token: Token(token), interests: .readable)
            } catch {
                failures.record("registrar: register threw \(error)")
                counters.add(.unexpectedErrors)
                return
            }
            pairs[index].token = token
            counters.add(.crossThreadRegistrations)
        }
        guard let token = pairs[index].token else { return }
        // Every byte written must be reported to the poller under the current token.
        var byte: UInt8 = 1
        _ = send(pairs[index].peer, &byte, 1, Int32(MSG_NOSIGNAL))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while !ledger.takeSeen(token) {
            if clock.now > deadline {
                failures.record("registrar: no event for token \(token) within 10 s of a write")
                counters.add(.lostEvents)
                break
            }
            if stop.isSet { return }
            usleep(100)
        }
        counters.add(.crossThreadEvents)
        drain(local)
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            let renewed = newToken()
            ledger.expect(renewed)
            do throws(Errno) {
                try registry.reregister(SourceFD(local), token: Token(renewed), interests: .readable)
                ledger.retire(token)
                pairs[index].token = renewed
                counters.add(.crossThreadRegistrations)
            } catch {
                failures.record("registrar: reregister threw \(error)")
                counters.add(.unexpectedErrors)
            }
        case 1:
            do throws(Errno) {
                try registry.deregister(SourceFD(local))
                ledger.retire(token)
                pairs[index].token = nil
                // A byte after deregister returned: the poller must never report it.
                _ = send(pairs[index].peer, &byte, 1, Int32(MSG_NOSIGNAL))
            } catch {
                failures.record("registrar: deregister threw \(error)")
                counters.add(.unexpectedErrors)
            }
        default:
            break
        }
    }

    private func wakeRound(stop: StopFlag) {
        let requested = ledger.requestWake()
        do throws(Errno) { try waker.wake() } catch {
            failures.record("registrar: wake threw \(error)")
            counters.add(.unexpectedErrors)
        }
        counters.add(.wakes)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while ledger.wakesAnswered < requested {
            if clock.now > deadline {
                failures.record("registrar: wake \(requested) not reported within 10 s")
                counters.add(.lostWakes)
                return
            }
            if stop.isSet { return }
            usleep(100)
        }
    }

    private func drain(_ fd: CInt) {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(fd, &buffer, buffer.count) > 0 {}
    }
}
