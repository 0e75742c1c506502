import Glibc

/// A divergence with everything needed to reproduce it.
public struct Finding: Sendable, CustomStringConvertible {
    public var target: FuzzTarget
    public var seed: UInt64
    public var ring: RingSizes
    public var divergence: Divergence
    /// Indices of the operations of the minimal replay, and the operations themselves.
    public var replay: [Int]
    public var operations: [Operation]

    public var command: String {
        "ringpoll-fuzz --target \(target) --seed \(seed) --keep \(replay.map(String.init).joined(separator: ","))"
    }

    public var description: String {
        var lines = ["DIVERGENCE on \(target), seed \(seed) (\(ring)): \(divergence)",
                     "  replay: \(command)",
                     "  minimal program (\(replay.count) operations):"]
        for (index, operation) in zip(replay, operations) { lines.append("    #\(index) \(operation)") }
        return lines.joined(separator: "\n")
    }
}

/// Totals of a fuzz run on one target.
public struct TargetTotals: Sendable {
    public var episodes = 0
    public var operations = 0
    public var events = 0
    public var polls = 0
    public var obligations = 0
    public var lateObligations = 0
    public var overflowingPolls = 0
    public var rearms = 0
    public var ringRebuilds = 0
    public var droppedCompletions = 0
    public var divergences = 0
    public var modelGaps = 0

    public init() {}

    public mutating func add(_ result: EpisodeResult) {
        episodes += 1
        operations += result.operations
        events += result.events
        polls += result.polls
        obligations += result.obligationsChecked
        lateObligations += result.lateObligations
        overflowingPolls += result.overflowingPolls
        rearms += result.rearms
        ringRebuilds += result.ringRebuilds
        droppedCompletions += result.droppedCompletions
        divergences += result.divergences.count
        modelGaps += result.modelGaps.count
    }
}

/// Runs seeded episodes against one target, shrinking every divergence it meets.
public enum Campaign {
    /// The seed of episode `index` of a run seeded with `seed`.
    public static func episodeSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        SplitMix64.derive(seed, index)
    }

    /// Runs one episode; on divergence, shrinks it and returns the finding.
    public static func episode(target: FuzzTarget, seed: UInt64, shape: EpisodeShape, keep: Set<Int>? = nil,
                               shrink: Bool = true) -> (EpisodeResult, Finding?) {
        let program = Generator.program(seed: seed, shape: shape)
        let result = EpisodeRunner(target: target, seed: seed, shape: shape).run(program, keep: keep)
        guard let first = result.divergences.first else { return (result, nil) }
        var replay = (keep.map { Array($0).sorted() } ?? Array(program.indices)).filter { $0 <= first.operation }
        if shrink {
            replay = Shrinker.minimize(replay) { candidate in
                let again = EpisodeRunner(target: target, seed: seed, shape: shape).run(program, keep: Set(candidate))
                return again.divergences.contains { $0.kind == first.kind }
            }
        }
        let final = EpisodeRunner(target: target, seed: seed, shape: shape).run(program, keep: Set(replay))
        let divergence = final.divergences.first { $0.kind == first.kind } ?? first
        let finding = Finding(target: target, seed: seed, ring: RingSizes(seed: seed), divergence: divergence,
                              replay: replay, operations: replay.map { program[$0] })
        return (result, finding)
    }

    /// Open descriptors of this process, from /proc/self/fd.
    public static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        while readdir(directory) != nil { count += 1 }
        return count - 3  // ".", ".." and the directory's own descriptor
    }
}
