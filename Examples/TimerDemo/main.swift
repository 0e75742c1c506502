// Timers on RingPoll's classic EventLoop.
//
//     swift run timer-demo --interval 250 --count 8
//
// A metronome: a timer fires every interval, scheduled against the start time so that lateness
// never adds up, and prints how late each one was (never early: deadlines are on the monotonic
// clock). It also clears a timer before it fires, shows that clearing a fired timer does nothing,
// and stops on SIGINT/SIGTERM through the classic self-pipe: the signal handler writes the signal
// number into a pipe the loop watches, since a signal handler may not take the loop's locks.
import Glibc
import RingPoll

enum Alarm {
    /// The n-th beat of the metronome.
    case beat(Int)
    /// A timer that is cleared before it is due.
    case never
}

struct Metronome: EventHandler {
    typealias Timeout = Alarm

    static let signalToken = Token(1)

    let interval: Duration
    let count: Int
    let signals: PipeReceiver
    let start = ContinuousClock.now
    var firstBeat: TimeoutHandle?
    var worstLateness: Duration = .zero
    var interruptions = 0

    /// Sets the timer for beat `n`, at `start + n × interval` rather than `interval` from now.
    mutating func schedule(_ loop: EventLoop<Metronome>, beat n: Int) -> TimeoutHandle {
        let due = start + interval * n
        return loop.setTimeout(.beat(n), after: due - ContinuousClock.now)
    }

    mutating func timeout(_ loop: EventLoop<Metronome>, timeout: Alarm) {
        switch timeout {
        case .never:
            say("timer-demo: a cleared timer fired; this must not happen")
        case .beat(let n):
            let lateness = ContinuousClock.now - (start + interval * n)
            worstLateness = max(worstLateness, lateness)
            say("beat \(n) at +\(milliseconds(interval * n)) ms, late by \(milliseconds(lateness)) ms")
            if n == 1, let firstBeat {
                say("clearing beat 1 again after it fired: \(loop.clearTimeout(firstBeat))")
            }
            if count > 0 && n >= count {
                say("done: \(n) beats, worst lateness \(milliseconds(worstLateness)) ms")
                loop.shutdown()
            } else {
                _ = schedule(loop, beat: n + 1)
            }
        }
    }

    mutating func ready(_ loop: EventLoop<Metronome>, token: Token, event: Event) {
        guard token == Self.signalToken else { return }
        var byte: [UInt8] = [0]
        guard let count = try? signals.read(into: &byte), count == 1 else { return }
        say("stopped by signal \(byte[0]) after \(milliseconds(ContinuousClock.now - start)) ms")
        loop.shutdown()
    }

    /// A signal also interrupts the loop's wait; the pipe is what reliably reports it, since a
    /// signal may as well arrive while the loop is busy.
    mutating func interrupted(_ loop: EventLoop<Metronome>) {
        interruptions += 1
    }
}

func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let micro = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    let sign = micro < 0 ? "-" : ""
    let magnitude = abs(micro)
    let fraction = String(magnitude % 1000)
    return "\(sign)\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

// MARK: Signals

/// The pipe's write end, for the signal handler (which can reach globals only).
nonisolated(unsafe) var signalPipe: CInt = -1

func installSignalHandlers() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { signal in
        var byte = UInt8(truncatingIfNeeded: signal)
        _ = write(signalPipe, &byte, 1)  // async-signal-safe; a full pipe already says "stop"
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0  // no SA_RESTART: the loop's wait ends with EINTR (`interrupted`)
    sigaction(SIGINT, &action, nil)
    sigaction(SIGTERM, &action, nil)
}

/// Writes one line to standard output at once (unbuffered), so that a program reading this
/// one through a pipe sees every line as it happens.
func say(_ line: String) {
    var bytes = Array((line + "\n").utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        bytes = bytes.dropFirst(written)
    }
}

// MARK: Main

func usage() -> Never {
    say("usage: timer-demo [--interval MILLISECONDS] [--count BEATS]   (defaults: 500, 10; count 0 runs until stopped)")
    exit(2)
}

var interval = Duration.milliseconds(500)
var count = 10
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--interval":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else { usage() }
        interval = .milliseconds(value)
    case "--count":
        guard let value = arguments.popFirst().flatMap(Int.init), value >= 0 else { usage() }
        count = value
    default:
        usage()
    }
}

do throws(Errno) {
    let loop = try EventLoop<Metronome>(configuration: .init(timerGranularity: .milliseconds(1)))
    let (signalSender, signalReceiver) = try makePipe()
    signalPipe = signalSender.fileDescriptor
    try loop.registry.register(signalReceiver, token: Metronome.signalToken, interests: .readable)
    installSignalHandlers()

    var metronome = Metronome(interval: interval, count: count, signals: signalReceiver)
    say("timer-demo: a beat every \(milliseconds(interval)) ms, \(count == 0 ? "until stopped" : "\(count) beats") (\(loop.backend))")
    metronome.firstBeat = metronome.schedule(loop, beat: 1)
    let never = loop.setTimeout(.never, after: interval / 2)
    say("clearing a pending timer: \(loop.clearTimeout(never))")

    try loop.run(&metronome)
    withExtendedLifetime(signalSender) {}
} catch {
    say("timer-demo: \(error)")
    exit(1)
}
