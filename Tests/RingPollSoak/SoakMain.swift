// ringpoll-soak: the fault soak. Echo load with random client RSTs, half-closes and slow
// readers, registry calls from a thread that never polls, wakes, and the server's poll moving to
// a new thread every few seconds (on io_uring: the ring rebuilt each time). Every echoed byte
// and every expected event is checked; descriptors and RSS are printed every minute.
// See docs/RELIABILITY.md.
import Glibc
import Synchronization
@_spi(Tuning) import RingPoll

@main
enum SoakMain {
    static func main() {
        let usage = "usage: ringpoll-soak [--backend io_uring|epoll] [--minutes M] [--clients N] [--seed S]"
        var backend = Backend.ioUring
        var minutes = 10.0
        var concurrency = 48
        var seed: UInt64 = 20_261_203

        let arguments = Array(CommandLine.arguments.dropFirst())
        var index = 0
        while index + 1 < arguments.count || (index < arguments.count && arguments[index] == "--help") {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--backend": backend = value == "epoll" ? .epoll : .ioUring
            case "--minutes": minutes = Double(value) ?? minutes
            case "--clients": concurrency = Int(value) ?? concurrency
            case "--seed": seed = UInt64(value) ?? seed
            default:
                print(usage)
                exit(2)
            }
            index += 2
        }

        signal(SIGPIPE, SIG_IGN)
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)

        let descriptorsAtStart = openDescriptorCount()
        let counters = SoakCounters()
        let failures = FailureLog()
        let ledger = CrossThreadLedger()
        let stop = StopFlag()
        let clock = ContinuousClock()

        func soak() throws(Errno) -> (rebuilds: Int, overflows: Int) {
            let poll = try Poll(backend: backend)
            let server = try EchoServer(poll: poll, ledger: ledger, counters: counters, failures: failures)
            let waker = try Waker(registry: poll.registry, token: Token(EchoServer.wakerToken))
            let registrar = try Registrar(registry: poll.registry, waker: waker, ledger: ledger, counters: counters, failures: failures, seed: seed)
            let clients = try LoadClients(backend: backend, address: try server.listener.localAddress(), concurrency: concurrency,
                                          counters: counters, failures: failures, seed: seed &+ 1)
            print("ringpoll-soak: \(poll.backend), \(minutes) minutes, \(concurrency) clients, seed \(seed), \(descriptorsAtStart) descriptors at start")
            print("minute | descriptors | RSS KiB | bytes verified | conns normal/half/slow/reset | server events | registrar regs/events | wakes | poll moves (ring rebuilds) | failures")
            fflush(nil)
            let registrarThread = SoakThread { registrar.run(stop: stop) }
            let clientThread = SoakThread { clients.run(stop: stop) }

            var random = SoakRandom(seed: seed &+ 2)
            let started = clock.now
            let end = started + .seconds(minutes * 60)
            var nextReport = started + .seconds(60)
            var minute = 0
            let handoff = Handoff(server)
            while clock.now < end {
                // The next slice of serving runs on a new thread: the poll moves threads.
                let slice = min(end, min(nextReport, clock.now + .milliseconds(Int.random(in: 500...3_000, using: &random))))
                SoakThread { handoff.value.run(until: slice) }.join()
                counters.add(.pollMigrations)
                if clock.now >= nextReport {
                    minute += 1
                    nextReport += .seconds(60)
                    let diagnostics = poll.diagnostics
                    print("""
                        \(minute) | \(openDescriptorCount()) | \(residentKilobytes()) | \(counters[.bytesVerified]) | \
                        \(counters[.connectionsDone])/\(counters[.halfClosesDone])/\(counters[.slowReadersDone])/\(counters[.resetsDone]) | \
                        \(counters[.serverEvents]) | \(counters[.crossThreadRegistrations])/\(counters[.crossThreadEvents]) | \
                        \(counters[.wakes]) | \(counters[.pollMigrations]) (\(diagnostics.ringRebuilds)) | \(counters.failureCount)
                        """)
                    fflush(nil)
                }
            }
            // Wind down: the load and the registrar stop while the server still serves, so that their
            // last calls complete; then everything closes.
            stop.set()
            let winding = SoakThread { handoff.value.run(until: clock.now + .seconds(2)) }
            clientThread.join()
            registrarThread.join()
            winding.join()
            handoff.value.run(until: clock.now + .milliseconds(200))
            let diagnostics = poll.diagnostics
            server.shutdown()
            return (diagnostics.ringRebuilds, diagnostics.completionOverflows)
        }

        let outcome: (rebuilds: Int, overflows: Int)
        do {
            outcome = try soak()
        } catch {
            print("ringpoll-soak: setup failed: \(error)")
            exit(2)
        }
        let descriptorsAtEnd = openDescriptorCount()
        print("""
            total: \(counters[.bytesVerified]) bytes verified; connections \(counters[.connectionsDone]) normal, \
            \(counters[.halfClosesDone]) half-closed, \(counters[.slowReadersDone]) slow readers, \(counters[.resetsDone]) reset; \
            \(counters[.serverAccepts]) accepted; \(counters[.crossThreadRegistrations]) cross-thread registrations, \
            \(counters[.crossThreadEvents]) of their events; \(counters[.wakes]) wakes; \(counters[.pollMigrations]) poll moves, \
            \(outcome.rebuilds) ring rebuilds, \(outcome.overflows) overflowing polls; descriptors \(descriptorsAtStart) at start, \(descriptorsAtEnd) at end
            failures: \(SoakCounters.failures.map { "\($0) \(counters[$0])" }.joined(separator: ", "))
            """)
        let leaked = descriptorsAtEnd != descriptorsAtStart
        if leaked { print("FAILURE: \(descriptorsAtEnd - descriptorsAtStart) descriptors leaked") }
        exit(counters.failureCount == 0 && !leaked ? 0 : 1)
    }
}
