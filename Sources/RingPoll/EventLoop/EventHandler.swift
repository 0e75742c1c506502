/// The callbacks an `EventLoop` makes: what mio's classic `Handler` trait was.
///
/// Every callback has a default that does nothing, so a handler implements only what it uses.
/// Callbacks run on the thread inside `run`/`runOnce`, one at a time, with the loop itself as
/// their first argument, so a handler can register sources, set timers or shut the loop down
/// from within. They are `mutating`, so a struct can keep its state without locks.
///
/// One tick calls, in this order: `ready` for every event the poll returned (or `interrupted`
/// when a signal ended the wait), `notify` for up to `messagesPerTick` messages, `timeout` for
/// every timer that is due, and `tick` once.
public protocol EventHandler {
    /// What other threads send through `EventLoop.channel()`; `Sendable` because it crosses
    /// threads. `Never` for handlers that take no messages.
    associatedtype Message: Sendable = Never
    /// The value a timer carries back to `timeout`, typically an enum naming what to do. It
    /// never leaves the loop's thread, so it need not be `Sendable`. `Never` for handlers
    /// without timers.
    associatedtype Timeout = Never

    /// A registered source is ready. `event` carries every readiness seen for `token` in this
    /// tick (readable and writable together, hang-ups, errors; see `Event.readHint`). With
    /// the default edge trigger, read or write until `Errno.wouldBlock` before the next tick.
    mutating func ready(_ eventLoop: EventLoop<Self>, token: Token, event: Event)

    /// A message sent through a sender of this loop, in the order that sender sent them.
    mutating func notify(_ eventLoop: EventLoop<Self>, message: Message)

    /// A timer set with `setTimeout(_:after:)` is due; it will not fire again.
    mutating func timeout(_ eventLoop: EventLoop<Self>, timeout: Timeout)

    /// A signal ended the wait for events (`EINTR`). The loop goes on afterwards; this is the
    /// place to act on a flag a signal handler set.
    mutating func interrupted(_ eventLoop: EventLoop<Self>)

    /// The tick's work is done; called once at the end of every iteration, also one that found
    /// nothing to do. Good for flushing buffered writes or checking a condition to shut down.
    mutating func tick(_ eventLoop: EventLoop<Self>)
}

extension EventHandler {
    /// Ignores the event.
    public mutating func ready(_ eventLoop: EventLoop<Self>, token: Token, event: Event) {}
    /// Drops the message.
    public mutating func notify(_ eventLoop: EventLoop<Self>, message: Message) {}
    /// Ignores the timer.
    public mutating func timeout(_ eventLoop: EventLoop<Self>, timeout: Timeout) {}
    /// Goes on as if the wait had ended without events.
    public mutating func interrupted(_ eventLoop: EventLoop<Self>) {}
    /// Does nothing.
    public mutating func tick(_ eventLoop: EventLoop<Self>) {}
}
