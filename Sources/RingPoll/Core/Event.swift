/// Readiness of one registration, as returned by `Poll.poll(_:timeout:)`.
///
/// Events are hints: a readable event means a read is worth trying, not that it will succeed.
/// Flags are derived from the kernel's poll bits exactly as mio derives them from epoll's.
public struct Event: Sendable, Equatable, CustomStringConvertible {
    /// The token of the registration this event is for.
    public let token: Token
    /// Normalized poll bits (`PollBits.reported`).
    @usableFromInline let bits: UInt32

    init(token: Token, bits: UInt32) {
        self.token = token
        self.bits = PollBits.normalized(bits)
    }

    @inlinable
    func has(_ mask: UInt32) -> Bool { bits & mask != 0 }

    /// Data (or a connection, or end of stream) can be read.
    @inlinable
    public var isReadable: Bool { has(PollBits.input | PollBits.priority) }
    /// Data can be written.
    @inlinable
    public var isWritable: Bool { has(PollBits.output) }
    /// The source has a pending error (`takeError()` on RingPoll sockets reads it).
    @inlinable
    public var isError: Bool { has(PollBits.error) }
    /// The peer closed its writing side, or the whole connection is gone.
    @inlinable
    public var isReadClosed: Bool {
        has(PollBits.hangUp) || (has(PollBits.input) && has(PollBits.readHangUp))
    }
    /// Writing can no longer succeed: the connection is gone or failed.
    @inlinable
    public var isWriteClosed: Bool {
        has(PollBits.hangUp) || (has(PollBits.output) && has(PollBits.error)) || bits == PollBits.error
    }
    /// Priority (out-of-band) data is available.
    @inlinable
    public var isPriority: Bool { has(PollBits.priority) }

    /// For example `Event(Token(3): READABLE | READ_CLOSED)`.
    public var description: String {
        var flags: [String] = []
        if isReadable { flags.append("READABLE") }
        if isWritable { flags.append("WRITABLE") }
        if isError { flags.append("ERROR") }
        if isReadClosed { flags.append("READ_CLOSED") }
        if isWriteClosed { flags.append("WRITE_CLOSED") }
        if isPriority { flags.append("PRIORITY") }
        return "Event(\(token): \(flags.isEmpty ? "(none)" : flags.joined(separator: " | ")))"
    }
}
