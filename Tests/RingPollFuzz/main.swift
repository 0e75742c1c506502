// ringpoll-fuzz: the differential fuzzer. Seeded programs of registry calls, descriptor
// closes and reuse, I/O, wakes and polls run against io_uring (every task-work mode, tiny rings)
// and epoll, with a model of the API contract alongside. See docs/RELIABILITY.md.
import Glibc
@_spi(Tuning) import RingPoll
import RingPollFuzzing

let usage = """
    usage: ringpoll-fuzz [--target io_uring-deferred|io_uring-cooperative|io_uring-signal|epoll|all]
                         [--operations N (per target, default 10000)] [--seed S] [--episode-length N]
                         [--replay EPISODE-SEED --keep I,J,...] [--no-shrink]
    """

var targets = FuzzTarget.all
var operations = 10_000
var seed = UInt64(truncatingIfNeeded: MonotonicSeed.now())
var shape = EpisodeShape()
var replaySeed: UInt64?
var keep: Set<Int>?
var shrink = true

let arguments = Array(CommandLine.arguments.dropFirst())
var index = 0
while index < arguments.count {
    let argument = arguments[index]
    let value = index + 1 < arguments.count ? arguments[index + 1] : ""
    index += 2
    switch argument {
    case "--target":
        if value == "all" { continue }
        guard let target = FuzzTarget(name: value) else { print(usage); exit(2) }
        targets = [target]
    case "--operations": operations = Int(value) ?? operations
    case "--seed": seed = UInt64(value) ?? seed
    case "--episode-length": shape.operations = Int(value) ?? shape.operations
    case "--replay": replaySeed = UInt64(value)
    case "--keep": keep = Set(value.split(separator: ",").compactMap { Int($0) })
    case "--no-shrink":
        shrink = false
        index -= 1
    default:
        print(usage)
        exit(2)
    }
}

signal(SIGPIPE, SIG_IGN)
var limit = rlimit()
getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
limit.rlim_cur = limit.rlim_max
setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)

if let replaySeed {
    // One episode, exactly as a finding printed it.
    for target in targets {
        let (result, finding) = Campaign.episode(target: target, seed: replaySeed, shape: shape, keep: keep, shrink: false)
        print("\(target): \(result.operations) operations, \(result.divergences.count) divergences")
        for divergence in result.divergences { print("  \(divergence)") }
        if let finding { print(finding) }
    }
    exit(0)
}

let watchdog = Watchdog(limit: .seconds(180))
watchdog.start()
print("ringpoll-fuzz seed \(seed), \(operations) operations per target, episodes of \(shape.operations), \(shape.slots) slots, capacities \(shape.capacities)")
var findings = 0
let clock = ContinuousClock()
for target in targets {
    var totals = TargetTotals()
    let descriptorsBefore = Campaign.openDescriptors()
    let started = clock.now
    var lastReport = started
    var episode = 0
    while totals.operations < operations {
        let episodeSeed = Campaign.episodeSeed(seed, episode)
        episode += 1
        watchdog.beat("\(target) episode seed \(episodeSeed)")
        let (result, finding) = Campaign.episode(target: target, seed: episodeSeed, shape: shape, shrink: shrink)
        totals.add(result)
        if let finding {
            findings += 1
            print(finding)
            fflush(nil)
            for other in result.divergences.dropFirst().prefix(5) { print("  also: \(other)") }
        }
        for gap in result.modelGaps.prefix(3) { print("  model gap: \(gap)") }
        if clock.now - lastReport > .seconds(60) {
            lastReport = clock.now
            print("  \(target): \(totals.operations) operations, \(totals.divergences) divergences, \(clock.now - started)")
            fflush(nil)
        }
    }
    let descriptorsAfter = Campaign.openDescriptors()
    print("""
        \(target): \(totals.episodes) episodes, \(totals.operations) operations, \(totals.polls) polls, \(totals.events) events, \
        \(totals.obligations) obligations checked (\(totals.lateObligations) late), CQ overflowed in \(totals.overflowingPolls) polls, \
        \(totals.rearms) re-arms, \(totals.ringRebuilds) ring rebuilds, \(totals.droppedCompletions) dropped completions, \
        \(totals.divergences) divergences, \(totals.modelGaps) model gaps, descriptors \(descriptorsBefore) -> \(descriptorsAfter), \
        \(clock.now - started)
        """)
    fflush(nil)
    if descriptorsAfter != descriptorsBefore {
        print("DIVERGENCE on \(target): descriptors leaked: \(descriptorsBefore) before, \(descriptorsAfter) after")
        findings += 1
    }
}
exit(findings == 0 ? 0 : 1)

enum MonotonicSeed {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return UInt64(time.tv_sec) &* 1_000_000_007 &+ UInt64(time.tv_nsec)
    }
}
