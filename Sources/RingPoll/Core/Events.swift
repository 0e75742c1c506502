/// Storage for the events one `poll` call returns, allocated once and reused.
///
/// `poll` clears it first and fills at most `capacity` events; readiness beyond that is kept and
/// returned by the next call, which then does not block.
public struct Events: RandomAccessCollection, Sendable {
    private var storage: ContiguousArray<Event>

    /// The most events one `poll` call returns. A capacity of 0 makes `poll` throw
    /// `Errno.invalidArgument`, as `epoll_wait` does for `maxevents` 0.
    public let capacity: Int

    /// Reserves room for `capacity` events up front so that polling never allocates.
    public init(capacity: Int) {
        self.capacity = Swift.max(0, capacity)
        storage = []
        storage.reserveCapacity(self.capacity)
    }

    /// Iterates without the collection's read coroutine, whose frame an unoptimized build would
    /// allocate per element.
    public struct Iterator: IteratorProtocol {
        private let storage: ContiguousArray<Event>
        private var index = 0

        init(_ storage: ContiguousArray<Event>) {
            self.storage = storage
        }

        /// The next event of the poll, oldest readiness first.
        public mutating func next() -> Event? {
            guard index < storage.count else { return nil }
            index += 1
            return storage[index - 1]
        }
    }

    /// Iterates the events of the last poll.
    public func makeIterator() -> Iterator { Iterator(storage) }

    /// Always 0.
    public var startIndex: Int { storage.startIndex }
    /// The number of events the last poll returned.
    public var endIndex: Int { storage.endIndex }
    /// The event at `position`, in delivery order.
    public subscript(position: Int) -> Event { storage[position] }

    /// Empties the collection and keeps its storage.
    public mutating func removeAll() {
        storage.removeAll(keepingCapacity: true)
    }

    /// Room left before `capacity` is reached.
    var remainingCapacity: Int { capacity - storage.count }

    mutating func append(_ event: Event) {
        storage.append(event)
    }
}
