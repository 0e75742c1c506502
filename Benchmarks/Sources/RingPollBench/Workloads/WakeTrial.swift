import CMeasure
import CRawLoops
import NIOCore
import NIOPosix
import RingPoll

/// One cross-thread wake trial. A poller thread blocks; this thread waits until the previous
/// wake was served, gives the poller 30 µs to block again, stamps the time and wakes it. The
/// poller records the time from the stamp to its wait's return. With `sameCPU`, both threads are
/// pinned to CPU 0, so the woken poller runs at once on the waker's CPU (wake-up preemption):
/// whatever the waker still holds at that moment, the poller waits for.
func runWakeTrial(_ implementation: Implementation, sameCPU: Bool, plan: TrialPlan, counting: ThreadCounting) throws(BenchError) -> TrialResult {
    guard let state = rl_wake_state_create() else { throw BenchError("wake state: out of memory") }
    defer { rl_wake_state_destroy(state) }
    let savedAffinity = sameCPU ? rpm_affinity_save() : nil
    if sameCPU { _ = rpm_pin_to_cpu(0) }
    defer { if sameCPU { rpm_affinity_restore(savedAffinity) } }
    let poller = try startWakePoller(implementation, state: WakeState(pointer: state), pinned: sameCPU)
    defer { poller.stop() }
    lowerTimerSlack()
    // Warm-up: the same loop, its latencies discarded.
    try wakeRepeatedly(state, poller, for: UInt64(plan.warmupMilliseconds) * 1_000_000)
    rl_wake_reset(state)
    let counters = plan.countsSyscalls ? counting.start(threads: [poller.threadID]) : nil
    let cpuBefore = rpm_thread_cpu_ns(poller.threadID)
    let start = nowNanoseconds()
    try wakeRepeatedly(state, poller, for: UInt64(plan.durationMilliseconds) * 1_000_000)
    let elapsed = nowNanoseconds() - start
    let cpu = rpm_thread_cpu_ns(poller.threadID) - cpuBefore
    let counts = counters?.stop()
    let latencies = rl_wake_latencies(state)
    return TrialResult(operations: rl_wake_served_count(state), elapsedNanoseconds: elapsed,
                       serverCPUNanoseconds: cpu,
                       p50Nanoseconds: rpm_hist_percentile(latencies, 50), p99Nanoseconds: rpm_hist_percentile(latencies, 99),
                       syscalls: counts?.syscalls ?? nil, mallocs: counts?.mallocs ?? nil)
}

private func wakeRepeatedly(_ state: OpaquePointer, _ poller: WakePoller, for duration: UInt64) throws(BenchError) {
    let deadline = nowNanoseconds() + duration
    while nowNanoseconds() < deadline {
        let waitingSince = nowNanoseconds()
        while rl_wake_is_served(state) == 0 {
            sleep(nanoseconds: 2_000)
            if nowNanoseconds() - waitingSince > 2_000_000_000 { throw BenchError("\(poller.name): a wake was lost") }
        }
        sleep(nanoseconds: 30_000)  // the poller is back in the kernel by now
        rl_wake_stamp(state)
        poller.wake()
    }
    let waitingSince = nowNanoseconds()
    while rl_wake_is_served(state) == 0 && nowNanoseconds() - waitingSince < 2_000_000_000 {
        sleep(nanoseconds: 2_000)
    }
}

/// The C wake state, shared with the poller thread (it synchronizes with C atomics).
struct WakeState: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// A thread blocked in some implementation's wait, and the way to wake it.
final class WakePoller {
    let name: String
    let threadID: pid_t
    let wake: () -> Void
    let stop: () -> Void

    init(name: String, threadID: pid_t, wake: @escaping () -> Void, stop: @escaping () -> Void) {
        self.name = name
        self.threadID = threadID
        self.wake = wake
        self.stop = stop
    }
}

private func startWakePoller(_ implementation: Implementation, state: WakeState, pinned: Bool) throws(BenchError) -> WakePoller {
    switch implementation {
    case .cEpoll, .cIOUring:
        let started = Startup<pid_t>()
        let useEpoll = implementation == .cEpoll
        let thread = OSThread {
            if pinned { _ = rpm_pin_to_cpu(0) }
            started.succeed(rpm_gettid())
            _ = useEpoll ? rl_epoll_wake_poller(state.pointer) : rl_uring_wake_poller(state.pointer)
        }
        let eventFD = rl_wake_eventfd(state.pointer)
        return WakePoller(name: implementation.title, threadID: try started.wait(),
                          wake: { rl_eventfd_signal(eventFD) },
                          stop: { rl_wake_request_stop(state.pointer); rl_eventfd_signal(eventFD); thread.join() })
    case .ringPollIOUring, .ringPollEpoll:
        return try startRingPollWakePoller(implementation.ringPollBackend!, state: state, pinned: pinned)
    case .exampleIOUring, .exampleEpoll, .asyncIOUring, .asyncEpoll, .swiftNIOAsync:
        throw BenchError("\(implementation.title) is measured on the echo rows only")
    case .swiftNIO:
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let threadID: pid_t
        do {
            threadID = try loop.submit {
                if pinned { _ = rpm_pin_to_cpu(0) }
                return rpm_gettid()
            }.wait()
        } catch {
            throw BenchError("SwiftNIO event loop: \(error)")
        }
        return WakePoller(name: "SwiftNIO", threadID: threadID,
                          wake: { loop.execute { rl_wake_served(state.pointer, rpm_now_ns()) } },
                          stop: { try? group.syncShutdownGracefully() })
    }
}

private func startRingPollWakePoller(_ backend: Backend, state: WakeState, pinned: Bool) throws(BenchError) -> WakePoller {
    struct Started: Sendable {
        var threadID: pid_t
        var waker: Waker
    }
    let started = Startup<Started>()
    let thread = OSThread {
        if pinned { _ = rpm_pin_to_cpu(0) }
        do throws(Errno) {
            let poll = try Poll(backend: backend)
            let waker = try Waker(registry: poll.registry, token: Token(7))
            var events = Events(capacity: 8)
            started.succeed(Started(threadID: rpm_gettid(), waker: waker))
            while rl_wake_stop_requested(state.pointer) == 0 {
                do throws(Errno) {
                    try poll.poll(&events, timeout: nil)
                } catch {
                    if error != .interrupted { throw error }
                }
                let now = rpm_now_ns()
                if !events.isEmpty { rl_wake_served(state.pointer, now) }
            }
        } catch {
            started.fail(BenchError("RingPoll \(backend) poller: \(error)"))
        }
    }
    let info = try started.wait()
    let waker = info.waker
    return WakePoller(name: "RingPoll \(backend)", threadID: info.threadID,
                      wake: { try? waker.wake() },
                      stop: { rl_wake_request_stop(state.pointer); try? waker.wake(); thread.join() })
}
