import RingPoll

/// A way the backend left the contract's envelope.
public enum DivergenceKind: String, Sendable, CaseIterable {
    /// A registry call returned another result than the contract prescribes.
    case callResult = "call result"
    case eventForUnknownToken = "event for a token never registered"
    case eventAfterRetirement = "event for a registration after deregister/reregister returned"
    case twoEventsInOnePoll = "two events for one registration in one poll"
    case outsideInterest = "readiness outside the registered interest"
    case oneshotRepeated = "oneshot registration reported twice"
    case unjustifiedEvent = "event without any cause (no activity since the last one, nothing ready)"
    case falseReadClosed = "read-closed false positive"
    case falseWriteClosed = "write-closed false positive"
    case lostEvent = "readiness never reported"
    case lostWake = "wake never reported"
    case wakeWithoutWake = "waker reported without a wake"
    case pollFailed = "poll threw"
    case descriptorLeak = "descriptors leaked"
    case setupFailed = "the fuzzer could not set up a resource"
}

/// One divergence: where, what, and the detail that explains it.
public struct Divergence: Sendable, CustomStringConvertible {
    /// Index of the operation in the episode's program.
    public var operation: Int
    public var kind: DivergenceKind
    public var detail: String

    public var description: String { "op #\(operation): \(kind.rawValue): \(detail)" }
}

/// What a registry call returned.
enum Outcome: Hashable, CustomStringConvertible {
    case ok
    case failed(Errno)

    var description: String {
        switch self {
        case .ok: "success"
        case .failed(let error): "\(error)"
        }
    }

    static func of(_ body: () throws(Errno) -> Void) -> Outcome {
        do throws(Errno) {
            try body()
            return .ok
        } catch {
            return .failed(error)
        }
    }
}

