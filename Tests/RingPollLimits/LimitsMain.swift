// ringpoll-limits: resource-limit scenarios, each in a process of its own, because RLIMIT_NOFILE
// and RLIMIT_AS are per process (lowering them inside the parallel test process would break
// other tests). ResourceLimitTests launches it and checks every line it prints:
// "ok <check>" or "FAIL <check>: <detail>". See docs/RELIABILITY.md.
import Glibc
@_spi(Tuning) import RingPoll

@main
enum LimitsMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count == 3, arguments[1] == "--backend" else {
            print("usage: ringpoll-limits accept-emfile|ring-setup-enomem --backend io_uring|epoll")
            exit(2)
        }
        signal(SIGPIPE, SIG_IGN)
        // The scenarios name their backends; `.automatic` must mean automatic (a launcher may
        // have set the override).
        unsetenv("RINGPOLL_BACKEND")
        let backend: Backend = arguments[2] == "epoll" ? .epoll : .ioUring
        let report = Report()
        switch arguments[0] {
        case "accept-emfile":
            var scenario = DescriptorExhaustion(backend: backend, report: report)
            scenario.run()
        case "ring-setup-enomem": RingMemoryPressure(report: report).run()
        default:
            print("unknown scenario \(arguments[0])")
            exit(2)
        }
        print("done: \(report.failures) failed")
        exit(report.failures == 0 ? 0 : 1)
    }
}

/// Prints one line per check.
final class Report {
    private(set) var failures = 0

    func check(_ name: String, _ passed: Bool, _ detail: @autoclosure () -> String = "") {
        if passed {
            print("ok \(name)")
        } else {
            failures += 1
            print("FAIL \(name): \(detail())")
        }
        fflush(nil)
    }
}

/// What a typed-throwing call did.
func outcome<Value>(_ body: () throws(Errno) -> Value) -> Result<Value, Errno> {
    do throws(Errno) {
        return .success(try body())
    } catch {
        return .failure(error)
    }
}

func error<Value>(of result: Result<Value, Errno>) -> Errno? {
    if case .failure(let error) = result { return error }
    return nil
}

/// Polls until `done` holds for the events seen, or `limit` passes; returns them.
func pollUntil(_ poll: Poll, within limit: Duration = .seconds(3), _ done: ([Event]) -> Bool) -> Result<[Event], Errno> {
    var events = Events(capacity: 64)
    var seen: [Event] = []
    let clock = ContinuousClock()
    let end = clock.now + limit
    while !done(seen) && clock.now < end {
        let result = outcome { () throws(Errno) in try poll.poll(&events, timeout: .milliseconds(50)) }
        if case .failure(let error) = result, error != .interrupted { return .failure(error) }
        seen.append(contentsOf: events)
    }
    return .success(seen)
}

private final class Entry {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Carries a closure to a new thread and its result back.
private final class ThreadBox<Value>: @unchecked Sendable {
    let body: () -> Value
    var value: Value?
    init(_ body: @escaping () -> Value) { self.body = body }
    func run() { value = body() }
}

/// Runs `body` on a new thread and returns its result (the thread is joined).
func onNewThread<Value>(_ body: @escaping () -> Value) -> Value {
    let box = ThreadBox(body)
    let run: () -> Void = box.run
    let context = Unmanaged.passRetained(Entry(run)).toOpaque()
    var thread = pthread_t()
    pthread_create(&thread, nil, { context in
        Unmanaged<Entry>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    pthread_join(thread, nil)
    return box.value!
}
