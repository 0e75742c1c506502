import Synchronization

/// The queue behind `EventLoopSender`: a bounded FIFO ring buffer under one mutex, shared by
/// every sender of a loop and by the loop itself, plus the rule that decides when a send must
/// wake the loop.
///
/// Ordering and wake-ups, all decided under the mutex (so every send and every receive is
/// totally ordered, and a message's contents are published to the loop by the unlock that
/// follows its push):
/// - `wakeRequested` is set by the send that finds it clear, and that send (after unlocking)
///   wakes the loop through its `Waker`. Later sends see it set and skip the wake: one wake-up
///   per batch, not one system call per message.
/// - It is cleared only when a receive leaves the queue empty. So *pending messages imply a
///   wake-up since the queue was last empty*, and *an empty queue implies the next send wakes*.
///   The loop drains at every tick and polls without waiting while messages remain, so a
///   message sent just before the loop blocks either was seen by the drain or made its sender
///   wake the loop, whose `Waker` makes that blocking poll return at once.
/// - A per-sender order holds because each sender's pushes are ordered by the mutex and the
///   queue is FIFO.
///
/// The buffer grows by doubling up to the capacity (messages may allocate; steady state does
/// not). The channel never refers to the loop, so senders do not keep it alive; the loop closes
/// the channel when it goes away.
final class MessageChannel<Message: Sendable>: Sendable {
    /// What a send did.
    enum SendOutcome {
        /// Queued; wake the loop with this waker (nil: a wake-up is already on its way).
        case accepted(Waker?)
        case full
        case closed
    }

    private let state: Mutex<MessageQueue<Message>>

    init(capacity: Int, waker: Waker) {
        state = Mutex(MessageQueue(capacity: capacity, waker: waker))
    }

    /// Queues `message` (any thread). The caller wakes the loop with the waker it gets back,
    /// outside the lock, so a slow wake never holds up other senders.
    func push(_ message: Message) -> SendOutcome {
        state.withLock { queue in queue.push(message) }
    }

    /// The oldest message, or nil (the loop's thread).
    func pop() -> Message? {
        state.withLock { queue in queue.pop() }
    }

    /// Whether messages are waiting (the loop's thread, to decide whether it may block).
    var hasPending: Bool {
        state.withLock { queue in queue.count > 0 }
    }

    /// Refuses every later send and drops what is queued (the loop is going away). The messages
    /// are destroyed after the lock is released: a message's deinit may itself send.
    func close() {
        var drained = state.withLock { queue in queue.close() }
        drained.destroy()
    }
}

/// The ring buffer itself, with the loop's waker; only ever touched under the channel's mutex.
struct MessageQueue<Message: Sendable>: ~Copyable {
    private var storage: MessageStorage<Message>
    private let capacity: Int
    private var waker: Waker?
    private var wakeRequested = false
    private var isClosed = false

    init(capacity: Int, waker: Waker) {
        self.capacity = capacity
        self.waker = waker
        storage = MessageStorage(allocated: Swift.min(capacity, 16))
    }

    deinit {
        var leftover = storage
        leftover.destroy()
    }

    var count: Int { storage.count }

    mutating func push(_ message: Message) -> MessageChannel<Message>.SendOutcome {
        if isClosed { return .closed }
        if storage.count >= capacity { return .full }
        if storage.count == storage.allocated {
            storage.grow(to: Swift.min(capacity, Swift.max(16, storage.allocated * 2)))
        }
        storage.append(message)
        if wakeRequested { return .accepted(nil) }
        wakeRequested = true
        return .accepted(waker)
    }

    mutating func pop() -> Message? {
        let message = storage.removeFirst()
        if storage.count == 0 { wakeRequested = false }
        return message
    }

    /// Marks the queue closed and hands its messages over for destruction.
    mutating func close() -> MessageStorage<Message> {
        isClosed = true
        waker = nil
        let drained = storage
        storage = MessageStorage(allocated: 0)
        return drained
    }
}

/// A growable FIFO ring of messages in raw memory (no `_modify` coroutines, no copy-on-write).
/// A plain value with manual lifetime: `MessageQueue` owns exactly one at a time and `destroy`
/// ends it.
struct MessageStorage<Message> {
    private var base: UnsafeMutablePointer<Message>?
    private(set) var allocated: Int
    private var head = 0
    private(set) var count = 0

    init(allocated: Int) {
        self.allocated = allocated
        base = allocated > 0 ? .allocate(capacity: allocated) : nil
    }

    /// Appends; the caller made room first.
    mutating func append(_ message: Message) {
        let index = (head + count) % allocated
        (base! + index).initialize(to: message)
        count += 1
    }

    mutating func removeFirst() -> Message? {
        guard count > 0, let base else { return nil }
        let message = (base + head).move()
        head = head + 1 == allocated ? 0 : head + 1
        count -= 1
        return message
    }

    /// Moves the messages, oldest first, into a larger buffer.
    mutating func grow(to newAllocated: Int) {
        guard newAllocated > allocated else { return }
        let newBase = UnsafeMutablePointer<Message>.allocate(capacity: newAllocated)
        if let base {
            let firstRun = Swift.min(count, allocated - head)
            newBase.moveInitialize(from: base + head, count: firstRun)
            (newBase + firstRun).moveInitialize(from: base, count: count - firstRun)
            base.deallocate()
        }
        base = newBase
        allocated = newAllocated
        head = 0
    }

    /// Destroys the remaining messages and frees the buffer.
    mutating func destroy() {
        while removeFirst() != nil {}
        base?.deallocate()
        base = nil
        allocated = 0
    }
}
