/// Why `EventLoopSender.send(_:)` refused a message. Either way the message comes back, so
/// the caller can retry, reroute or dispose of it: nothing is lost silently.
public enum NotifyError<Message: Sendable>: Error {
    /// The channel holds `channelCapacity` messages the loop has not taken yet. Back off and
    /// retry; the loop drains up to `messagesPerTick` per tick.
    case full(Message)
    /// The loop is gone, so nobody will ever receive it.
    case closed(Message)

    /// The refused message, whatever the reason, for callers that only want it back.
    public var message: Message {
        switch self {
        case .full(let message), .closed(let message): message
        }
    }
}

extension NotifyError: CustomStringConvertible {
    /// `full` or `closed`; the message is left out, as it may be large or private.
    public var description: String {
        switch self {
        case .full: "NotifyError.full (the channel is at capacity)"
        case .closed: "NotifyError.closed (the event loop is gone)"
        }
    }
}
