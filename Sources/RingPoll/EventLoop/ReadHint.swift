/// What a read is likely to return after a readable event, as the classic mio loop reported it.
///
/// A hint lets a handler skip work that cannot pay off (parsing, buffer allocation) once a
/// hang-up or an error is certain. It is only a hint: readiness can change between the event and
/// the read, so the read's own result (0 for end of stream, a thrown `Errno`) stays the truth.
public enum ReadHint: Sendable, Hashable {
    /// Data (or a connection to accept) is waiting.
    case data
    /// The peer closed its side: reads drain what is left, then return 0.
    case hangup
    /// The source has a pending error: a read (or `takeError()`) will report it.
    case error
    /// The event says nothing about reading (for example a writable-only event).
    case unknown
}

extension Event {
    /// The read hint this event implies, with the most certain outcome first: an error outranks
    /// a hang-up, and a hang-up outranks data, because data that arrives together with the peer's
    /// FIN still ends in end of stream.
    public var readHint: ReadHint {
        if isError { return .error }
        if isReadClosed { return .hangup }
        if isReadable { return .data }
        return .unknown
    }
}
