/// Storage for the events one `poll` call returns, allocated once and reused.
///
/// `poll` clears it first and fills at most `capacity` events; readiness beyond that is kept and
/// returned by the next call, which then does not block.
public struct Events: RandomAccessCollection, Sendable {
    @usableFromInline
    var buffer: EventBuffer

    /// Reserves room for `capacity` events up front so that polling never allocates.
    public init(capacity: Int) {
        buffer = EventBuffer(capacity: Swift.max(0, capacity))
    }

    /// The most events one `poll` call returns. A capacity of 0 makes `poll` throw
    /// `Errno.invalidArgument`, as `epoll_wait` does for `maxevents` 0.
    public var capacity: Int { buffer.capacity }

    /// Iterates without the collection's read coroutine (whose frame an unoptimized build would
    /// allocate per element) and inlines into the caller's loop.
    public struct Iterator: IteratorProtocol {
        @usableFromInline let buffer: EventBuffer
        @usableFromInline var index = 0

        @inlinable
        init(_ buffer: EventBuffer) {
            self.buffer = buffer
        }

        /// The next event of the poll, oldest readiness first.
        @inlinable
        public mutating func next() -> Event? {
            guard index < buffer.count else { return nil }
            index += 1
            return buffer.base[index - 1]
        }
    }

    /// Iterates the events of the last poll.
    @inlinable
    public func makeIterator() -> Iterator { Iterator(buffer) }

    /// Always 0.
    @inlinable
    public var startIndex: Int { 0 }

    /// The number of events the last poll returned.
    @inlinable
    public var endIndex: Int { buffer.count }

    /// The event at `position`, in delivery order.
    @inlinable
    public subscript(position: Int) -> Event {
        precondition(position >= 0 && position < buffer.count, "Events index out of range")
        return buffer.base[position]
    }

    /// Empties the collection and keeps its storage.
    public mutating func removeAll() {
        prepareForFilling()
    }

    /// Makes the storage this value's own (a copy of `Events` shares it until written) and
    /// empty. The poll calls it once; then `append` needs no check per event.
    mutating func prepareForFilling() {
        if !isKnownUniquelyReferenced(&buffer) {
            buffer = EventBuffer(capacity: buffer.capacity)
        }
        buffer.count = 0
    }

    /// Room left before `capacity` is reached.
    var remainingCapacity: Int { buffer.capacity - buffer.count }

    /// Adds an event; only after `prepareForFilling`, and only while there is room.
    func append(_ event: Event) {
        assert(buffer.count < buffer.capacity)
        buffer.base[buffer.count] = event
        buffer.count += 1
    }
}

/// The fixed-capacity memory behind `Events`. Copies of an `Events` value share it until one of
/// them is filled again (copy on write), which is what makes the `Sendable` promise hold.
///
/// The count lives in the same raw memory as the events, not in a stored `var`: a class's
/// stored property is checked for exclusive access at run time on every write and most reads,
/// which cost a runtime call per event delivered and per event iterated.
@usableFromInline
final class EventBuffer: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Event>
    @usableFromInline let capacity: Int
    @usableFromInline let countStorage: UnsafeMutablePointer<Int>

    @inlinable
    var count: Int {
        get { countStorage.pointee }
        set { countStorage.pointee = newValue }
    }

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: Swift.max(1, capacity))
        countStorage = .allocate(capacity: 1)
        countStorage.initialize(to: 0)
    }

    deinit {
        base.deallocate()  // `Event` is a trivial type: nothing to deinitialize
        countStorage.deallocate()
    }
}
