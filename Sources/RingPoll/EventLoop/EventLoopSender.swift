/// Sends messages to an `EventLoop`'s handler from any thread; they arrive at
/// `EventHandler.notify` on the loop's thread.
///
/// Copies are cheap and share one bounded channel. Messages from one sender arrive in the order
/// they were sent, each exactly once; messages of different senders interleave in the order the
/// channel accepted them. A sender does not keep its loop alive: once the loop is gone, `send`
/// throws `NotifyError.closed`.
public struct EventLoopSender<Message: Sendable>: Sendable {
    let channel: MessageChannel<Message>

    init(channel: MessageChannel<Message>) {
        self.channel = channel
    }

    /// Queues `message` for the loop and wakes the loop if it may be waiting.
    ///
    /// Never blocks: with `channelCapacity` messages pending it throws `NotifyError.full`, and
    /// after the loop is gone `NotifyError.closed`; both hand `message` back. Allocates only
    /// while the channel's buffer grows towards its capacity.
    public func send(_ message: Message) throws(NotifyError<Message>) {
        switch channel.push(message) {
        case .accepted(let waker):
            // A wake can only fail once the poll is closed, and then the loop is going away.
            if let waker { try? waker.wake() }
        case .full:
            throw .full(message)
        case .closed:
            throw .closed(message)
        }
    }
}
