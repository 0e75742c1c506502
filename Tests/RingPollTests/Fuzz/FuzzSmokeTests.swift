import RingPoll
import RingPollFuzzing
import Testing

/// The differential fuzzer's smoke run for CI: 10,000 operations per backend (every io_uring
/// task-work mode, tiny rings, and epoll), from fixed seeds, against the contract model. The
/// long runs (a million operations and more) use `swift run ringpoll-fuzz`; docs/RELIABILITY.md.
@Suite struct FuzzSmokeTests {
    static let targets = FuzzTarget.all.filter { TestBackends.all.contains($0.backend) }.map(\.description)

    @Test(arguments: targets)
    func tenThousandOperationsStayInsideTheContract(target name: String) throws {
        let target = try #require(FuzzTarget(name: name))
        let shape = EpisodeShape()
        var totals = TargetTotals()
        var episode = 0
        while totals.operations < 10_000 {
            let seed = Campaign.episodeSeed(20_261_203, episode)
            episode += 1
            let (result, finding) = Campaign.episode(target: target, seed: seed, shape: shape)
            totals.add(result)
            if let finding { Issue.record("\(finding)") }
        }
        #expect(totals.divergences == 0)
        #expect(totals.events > 1_000, "the programs hardly produced events: \(totals.events)")
        #expect(totals.obligations > 500, "too few obligations were checked: \(totals.obligations)")
        if target.backend == .ioUring {
            // The fault paths were really taken: the tiny CQ overflowed and polls moved threads.
            #expect(totals.overflowingPolls > 0)
            #expect(totals.ringRebuilds > 0)
        }
        #expect(totals.droppedCompletions == 0)
    }
}
