@_spi(Tuning) import RingPoll

/// Shapes of one fuzz episode: pool size, wakers, the `Events` capacities polls use.
public struct EpisodeShape: Sendable {
    public var slots = 6
    public var wakers = 2
    public var capacities = [1, 2, 3, 5]
    public var operations = 1_000

    public init() {}
}

/// Turns a seed into a program: every slot opened first, then weighted random steps.
///
/// Swarm testing: each episode draws its own subset of busy slots and of enabled step kinds, so
/// that some episodes hammer one or two descriptors with few kinds of steps (dense sequences that
/// uniform choices would rarely produce) while others mix everything.
public enum Generator {
    public static func program(seed: UInt64, shape: EpisodeShape) -> [Operation] {
        var random = SplitMix64(seed: seed)
        var program: [Operation] = []
        program.reserveCapacity(shape.operations)
        for slot in 0..<shape.slots where program.count < shape.operations {
            program.append(.open(slot: slot, kind: ResourceKind.allCases.randomElement(using: &random)!))
        }
        let busy = Int.random(in: 1...shape.slots, using: &random)
        let enabled = (0..<Kind.allCases.count).map { _ in Int.random(in: 0..<10, using: &random) < 7 }
        while program.count < shape.operations {
            program.append(step(&random, shape, busy: busy, enabled: enabled))
        }
        return program
    }

    private enum Kind: Int, CaseIterable {
        case poll, writeIn, readLocal, register, reregister, deregister, closeLocal, closePeer, dup2, open
        case writeOut, readPeer, shutdown, wake, settle, burst, drainAll

        /// Relative weight (per thousand) of the step kind.
        var weight: Int {
            switch self {
            case .poll: 190
            case .writeIn: 110
            case .readLocal: 100
            case .register: 80
            case .reregister: 60
            case .deregister: 50
            case .closeLocal: 30
            case .closePeer: 25
            case .dup2: 25
            case .open: 45
            case .writeOut: 60
            case .readPeer: 50
            case .shutdown: 30
            case .wake: 55
            case .settle: 50
            case .burst: 20
            case .drainAll: 20
            }
        }

        /// Polls and settles are always on: without them nothing is checked.
        var canBeDisabled: Bool { self != .poll && self != .settle && self != .register }
    }

    private static let interests: [Interest] = [.readable, .readable, .writable, [.readable, .writable], [.readable, .writable], [.readable, .priority]]
    private static let triggers: [Trigger] = [.edge, .edge, .edge, .level, .oneshot]

    private static func step(_ random: inout SplitMix64, _ shape: EpisodeShape, busy: Int, enabled: [Bool]) -> Operation {
        let kinds = Kind.allCases.filter { !$0.canBeDisabled || enabled[$0.rawValue] }
        var roll = Int.random(in: 0..<kinds.map(\.weight).reduce(0, +), using: &random)
        var kind = kinds[0]
        for candidate in kinds {
            if roll < candidate.weight { kind = candidate; break }
            roll -= candidate.weight
        }
        let slot = Int.random(in: 0..<busy, using: &random)
        func interest() -> Interest {
            Int.random(in: 0..<50, using: &random) == 0 ? [] : interests.randomElement(using: &random)!
        }
        func bytes() -> Int {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: 0  // until full / until would-block
            case 1...2: Int.random(in: 1_000...70_000, using: &random)
            default: Int.random(in: 1...64, using: &random)
            }
        }
        switch kind {
        case .poll:
            let capacity = shape.capacities.randomElement(using: &random)!
            let timeout = Int.random(in: 0..<10, using: &random) < 7 ? 0 : Int.random(in: 1...1_000, using: &random)
            return .poll(capacity: capacity, timeoutMicroseconds: timeout, otherThread: Int.random(in: 0..<40, using: &random) == 0)
        case .writeIn: return .writeIn(slot: slot, bytes: bytes())
        case .readLocal: return .readLocal(slot: slot, bytes: Int.random(in: 0..<3, using: &random) == 0 ? Int.random(in: 1...64, using: &random) : 0)
        case .register: return .register(slot: slot, interests: interest(), trigger: triggers.randomElement(using: &random)!)
        case .reregister: return .reregister(slot: slot, interests: interest(), trigger: triggers.randomElement(using: &random)!)
        case .deregister: return .deregister(slot: slot)
        case .closeLocal: return .closeLocal(slot: slot)
        case .closePeer: return .closePeer(slot: slot, reset: Bool.random(using: &random))
        case .dup2: return .dup2Reuse(slot: slot, kind: ResourceKind.borrowed.randomElement(using: &random)!)
        case .open: return .open(slot: slot, kind: ResourceKind.allCases.randomElement(using: &random)!)
        case .writeOut: return .writeOut(slot: slot, bytes: bytes())
        case .readPeer: return .readPeer(slot: slot, bytes: Int.random(in: 0..<3, using: &random) == 0 ? Int.random(in: 1...4096, using: &random) : 0)
        case .shutdown: return .shutdown(slot: slot, peer: Bool.random(using: &random), how: [Shutdown.read, .write, .both].randomElement(using: &random)!)
        case .wake: return .wake(waker: Int.random(in: 0..<shape.wakers, using: &random))
        case .settle: return .settle
        case .burst: return .burst
        case .drainAll: return .drainAll
        }
    }
}
