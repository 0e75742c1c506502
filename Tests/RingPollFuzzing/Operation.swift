@_spi(Tuning) import RingPoll

/// The descriptors the fuzzer plays with. Borrowed kinds are raw descriptors registered through
/// `SourceFD`; owned kinds are RingPoll's own sockets and pipes, whose `close` deregisters.
public enum ResourceKind: String, CaseIterable, Sendable {
    /// An AF_UNIX stream socketpair.
    case unixStream
    /// The read end of a pipe (the peer is the write end).
    case pipeRead
    /// The write end of a pipe (the peer is the read end).
    case pipeWrite
    /// A TCP connection over loopback.
    case tcp
    /// An eventfd: its own peer (writes and reads go to the same descriptor).
    case eventfd
    /// `UnixStream.pair()`.
    case ownedUnix
    /// A `TCPStream` accepted from a loopback listener.
    case ownedTCP
    /// `makePipe()`: the local end is the `PipeReceiver`.
    case ownedPipe

    public var isOwned: Bool { self == .ownedUnix || self == .ownedTCP || self == .ownedPipe }
    var isSocket: Bool { self == .unixStream || self == .tcp || self == .ownedUnix || self == .ownedTCP }
    var isTCP: Bool { self == .tcp || self == .ownedTCP }
    /// Whether something can be written towards the local end.
    var hasInbound: Bool { self != .pipeWrite }
    /// Whether the local end can write towards its peer.
    var hasOutbound: Bool { isSocket || self == .pipeWrite }

    static let borrowed: [ResourceKind] = allCases.filter { !$0.isOwned }
}

/// One step of a fuzz program. Every parameter is explicit, so a program replays exactly and a
/// subset of it (a shrunk replay) still means the same steps.
public enum Operation: Equatable, Sendable, CustomStringConvertible {
    /// Replaces whatever the slot holds (closed as by `closeLocal` and `closePeer`) with a new
    /// resource; the kernel reuses the lowest free descriptor numbers.
    case open(slot: Int, kind: ResourceKind)
    case register(slot: Int, interests: Interest, trigger: Trigger)
    case reregister(slot: Int, interests: Interest, trigger: Trigger)
    case deregister(slot: Int)
    /// Borrowed: close(2) without deregister. Owned: `close()`.
    case closeLocal(slot: Int)
    /// Closes the peer; `reset` sends a TCP RST (SO_LINGER 0).
    case closePeer(slot: Int, reset: Bool)
    /// dup2 of a fresh descriptor of `kind` onto the local number (borrowed resources only).
    case dup2Reuse(slot: Int, kind: ResourceKind)
    /// Writes towards the local end (0: until the peer would block).
    case writeIn(slot: Int, bytes: Int)
    /// The local end writes to its peer (0: until it would block).
    case writeOut(slot: Int, bytes: Int)
    /// The local end reads (0: until it would block).
    case readLocal(slot: Int, bytes: Int)
    /// The peer reads what the local end wrote (0: until it would block).
    case readPeer(slot: Int, bytes: Int)
    case shutdown(slot: Int, peer: Bool, how: Shutdown)
    /// One byte towards every slot at once: many completions in one poll overflow a tiny CQ.
    case burst
    /// Every local end reads until it would block.
    case drainAll
    case wake(waker: Int)
    /// `poll` with `Events` of capacity `capacity`; on a fresh thread when `otherThread`.
    case poll(capacity: Int, timeoutMicroseconds: Int, otherThread: Bool)
    /// Polls until quiet, then checks every must-report obligation.
    case settle

    public var description: String {
        switch self {
        case let .open(slot, kind): "open slot \(slot) as \(kind)"
        case let .register(slot, interests, trigger): "register slot \(slot) \(interests) \(trigger)"
        case let .reregister(slot, interests, trigger): "reregister slot \(slot) \(interests) \(trigger)"
        case let .deregister(slot): "deregister slot \(slot)"
        case let .closeLocal(slot): "close local of slot \(slot)"
        case let .closePeer(slot, reset): "close peer of slot \(slot)\(reset ? " with RST" : "")"
        case let .dup2Reuse(slot, kind): "dup2 a new \(kind) onto the local number of slot \(slot)"
        case let .writeIn(slot, bytes): "write \(bytes == 0 ? "until full" : "\(bytes) bytes") towards slot \(slot)"
        case let .writeOut(slot, bytes): "slot \(slot) writes \(bytes == 0 ? "until full" : "\(bytes) bytes")"
        case let .readLocal(slot, bytes): "slot \(slot) reads \(bytes == 0 ? "until would-block" : "\(bytes) bytes")"
        case let .readPeer(slot, bytes): "peer of slot \(slot) reads \(bytes == 0 ? "until would-block" : "\(bytes) bytes")"
        case let .shutdown(slot, peer, how): "shutdown(\(how)) on the \(peer ? "peer" : "local end") of slot \(slot)"
        case .burst: "write one byte towards every slot"
        case .drainAll: "every slot reads until would-block"
        case let .wake(waker): "wake waker \(waker)"
        case let .poll(capacity, timeout, other):
            "poll capacity \(capacity) timeout \(timeout) µs\(other ? " on another thread" : "")"
        case .settle: "settle and check obligations"
        }
    }
}
