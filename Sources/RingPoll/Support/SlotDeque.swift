/// A double-ended queue of slot numbers in storage sized by its owner, not grown on the way.
///
/// The registration table keeps its free slots and its submission list here. Each holds at most
/// one entry per slot, so the table grows the deque together with its slots and the poll path
/// never allocates; and unlike an array, no push or pop checks for a shared buffer to copy.
struct SlotDeque: ~Copyable {
    private var storage: UnsafeMutablePointer<UInt32>
    private(set) var capacity: Int
    /// Index of the oldest entry.
    private var head = 0
    private(set) var count = 0

    init() {
        storage = .allocate(capacity: 1)
        capacity = 1
    }

    deinit {
        storage.deallocate()
    }

    /// Makes room for `minimumCapacity` entries, keeping their order.
    mutating func reserveCapacity(_ minimumCapacity: Int) {
        guard minimumCapacity > capacity else { return }
        let grown = UnsafeMutablePointer<UInt32>.allocate(capacity: minimumCapacity)
        for offset in 0..<count {
            grown[offset] = storage[position(offset)]
        }
        storage.deallocate()
        storage = grown
        capacity = minimumCapacity
        head = 0
    }

    /// Adds `slot` after the newest entry.
    mutating func pushBack(_ slot: UInt32) {
        growIfFull()
        storage[position(count)] = slot
        count += 1
    }

    /// Adds `slot` before the oldest entry.
    mutating func pushFront(_ slot: UInt32) {
        growIfFull()
        head = head == 0 ? capacity - 1 : head - 1
        storage[head] = slot
        count += 1
    }

    mutating func popFront() -> UInt32? {
        guard count > 0 else { return nil }
        let slot = storage[head]
        head = head + 1 == capacity ? 0 : head + 1
        count -= 1
        return slot
    }

    mutating func popBack() -> UInt32? {
        guard count > 0 else { return nil }
        count -= 1
        return storage[position(count)]
    }

    /// Only reached when a caller pushed more than it reserved for; the table never does.
    private mutating func growIfFull() {
        if count == capacity { reserveCapacity(capacity * 2) }
    }

    /// The storage index of the entry `offset` places after the oldest.
    private func position(_ offset: Int) -> Int {
        let index = head + offset
        return index < capacity ? index : index - capacity
    }
}
