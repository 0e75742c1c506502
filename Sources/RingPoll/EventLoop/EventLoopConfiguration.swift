/// Sizes and limits of an `EventLoop`, fixed when it is created.
///
/// The defaults suit a server with a few thousand connections; each knob trades memory or
/// latency for throughput, as in the classic mio `EventLoopConfig`.
public struct EventLoopConfiguration: Sendable, Hashable {
    /// How many events one tick takes from the poll (at least 1). Readiness beyond it is not
    /// lost: it is reported by the next tick, which then does not block.
    public var eventsCapacity: Int = 1024

    /// How many messages may wait in the channel (0 or more). The limit is exact: with
    /// `channelCapacity` messages pending, the next `send` throws `NotifyError.full`, which is
    /// the back-pressure that keeps fast producers from exhausting memory.
    public var channelCapacity: Int = 4096

    /// How many messages one tick hands to `notify` (at least 1), so that a flood of messages
    /// cannot starve I/O and timers. Messages left over make the next tick poll without waiting.
    public var messagesPerTick: Int = 256

    /// How much later than its deadline a timer may fire (zero or more). Deadlines are rounded up
    /// to a multiple of it on the monotonic clock, so timers due within one granule share one
    /// wake-up; zero wakes for every deadline exactly.
    public var timerGranularity: Duration = .milliseconds(1)

    /// The defaults: 1024 events, 4096 messages, 256 messages per tick, 1 ms granularity.
    public init() {}

    /// Every setting at once, each defaulting as in `init()`.
    public init(
        eventsCapacity: Int = 1024,
        channelCapacity: Int = 4096,
        messagesPerTick: Int = 256,
        timerGranularity: Duration = .milliseconds(1)
    ) {
        self.eventsCapacity = eventsCapacity
        self.channelCapacity = channelCapacity
        self.messagesPerTick = messagesPerTick
        self.timerGranularity = timerGranularity
    }

    /// Throws `Errno.invalidArgument` for a setting outside its range, so that a mistake shows
    /// at creation instead of as a loop that never polls or never delivers.
    func validate() throws(Errno) {
        guard eventsCapacity >= 1, channelCapacity >= 0, messagesPerTick >= 1,
              timerGranularity >= .zero else { throw .invalidArgument }
    }
}
