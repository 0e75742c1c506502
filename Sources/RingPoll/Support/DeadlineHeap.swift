/// Values waiting for a deadline: an indexed binary min-heap over a slab of slots. The event
/// loop's timers and `RingPollAsync`'s sleeping tasks are both kept in one.
///
/// - `insert` and `cancel` cost O(log n): the heap orders (deadline, sequence) keys, and every
///   slot knows where its key sits in the heap, so a cancel removes it in place instead of
///   searching or leaving a tombstone behind. `nextDeadline` is O(1).
/// - Keys live inline in the heap array, so sifting compares neighbouring memory and touches
///   the slab only to update positions.
/// - Ties on the deadline fire in the order the timers were set (`sequence`).
/// - Storage is raw memory reached through pointers: no `_modify` coroutine (whose frame an
///   unoptimized build allocates) on any path, and no allocation at all once the arrays have
///   grown to the working size.
///
/// Not thread-safe: the thread of the loop or executor owns it.
package final class DeadlineHeap<Value> {
    /// One heap entry: the ordering key and the slot it belongs to.
    struct Node {
        var deadline: UInt64
        var sequence: UInt64
        var slot: UInt32
    }

    /// One value's storage. A free or merely reserved slot has no value; a free one links to
    /// the next free slot.
    struct Slot {
        var generation: UInt32
        var heapIndex: Int
        var nextFree: UInt32
        var value: Value?
    }

    private static var noSlot: UInt32 { .max }

    private var heap: UnsafeMutablePointer<Node>
    private var heapCapacity: Int
    package private(set) var count = 0

    private var slots: UnsafeMutablePointer<Slot>
    private var slotCapacity: Int
    private var slotCount = 0
    private var freeHead = DeadlineHeap.noSlot

    /// The sequence number the next scheduled value gets.
    package private(set) var nextSequence: UInt64 = 0

    package init(initialCapacity: Int = 16) {
        heapCapacity = Swift.max(1, initialCapacity)
        slotCapacity = heapCapacity
        heap = .allocate(capacity: heapCapacity)
        slots = .allocate(capacity: slotCapacity)
    }

    deinit {
        slots.deinitialize(count: slotCount)
        slots.deallocate()
        heap.deallocate()
    }

    package var isEmpty: Bool { count == 0 }

    /// The earliest deadline, or `nil` when empty.
    package var nextDeadline: UInt64? { count > 0 ? heap[0].deadline : nil }

    // MARK: Operations

    /// Adds `value`, due at `deadline` (monotonic nanoseconds); returns its slot and generation.
    package func insert(_ value: Value, deadline: UInt64) -> (slot: UInt32, generation: UInt32) {
        let reserved = reserve()
        schedule(slot: reserved.slot, value, deadline: deadline)
        return reserved
    }

    /// Takes a slot without scheduling anything in it yet, so that a caller can hand the slot's
    /// name to a cancellation handler before it has the value (a sleeping task's continuation).
    package func reserve() -> (slot: UInt32, generation: UInt32) {
        let slot = takeSlot()
        return (slot, slots[Int(slot)].generation)
    }

    /// Schedules `value` in a slot `reserve` returned.
    package func schedule(slot: UInt32, _ value: Value, deadline: UInt64) {
        slots[Int(slot)].value = value
        if count == heapCapacity { growHeap() }
        let index = count
        count += 1
        heap[index] = Node(deadline: deadline, sequence: nextSequence, slot: slot)
        nextSequence &+= 1
        slots[Int(slot)].heapIndex = index
        siftUp(index)
    }

    /// The value scheduled in `slot` if the slot is still the one of `generation`.
    package func pending(slot: UInt32, generation: UInt32) -> Value? {
        guard Int(slot) < slotCount, slots[Int(slot)].generation == generation else { return nil }
        return slots[Int(slot)].value
    }

    /// Removes the value in `slot` if it is still the one of `generation` and scheduled;
    /// returns it (nil for one that came due or was cancelled already).
    @discardableResult
    package func cancel(slot: UInt32, generation: UInt32) -> Value? {
        guard pending(slot: slot, generation: generation) != nil else { return nil }
        removeNode(at: slots[Int(slot)].heapIndex)
        return releaseSlot(slot)
    }

    /// Removes and returns the earliest value if it is due at `now` and was scheduled before
    /// `sequenceLimit` (the event loop passes the sequence at the start of a tick, so that
    /// timers set by its `timeout` callbacks wait for the next tick).
    package func popExpired(now: UInt64, sequenceLimit: UInt64 = .max) -> Value? {
        guard count > 0 else { return nil }
        let first = heap[0]
        guard first.deadline <= now, first.sequence < sequenceLimit else { return nil }
        removeNode(at: 0)
        return releaseSlot(first.slot)
    }

    /// Removes and returns any value, the cheapest to remove (for emptying the heap).
    package func popAny() -> Value? {
        guard count > 0 else { return nil }
        let slot = heap[count - 1].slot
        removeNode(at: count - 1)
        return releaseSlot(slot)
    }

    // MARK: Heap

    private func less(_ a: Node, _ b: Node) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

    /// Puts `node` at `index` and records the position in its slot.
    private func place(_ node: Node, at index: Int) {
        heap[index] = node
        slots[Int(node.slot)].heapIndex = index
    }

    private func siftUp(_ start: Int) {
        let node = heap[start]
        var index = start
        while index > 0 {
            let parent = (index - 1) / 2
            let parentNode = heap[parent]
            guard less(node, parentNode) else { break }
            place(parentNode, at: index)
            index = parent
        }
        place(node, at: index)
    }

    private func siftDown(_ start: Int) {
        let node = heap[start]
        var index = start
        while true {
            let left = 2 * index + 1
            guard left < count else { break }
            var child = left
            let right = left + 1
            if right < count, less(heap[right], heap[left]) { child = right }
            let childNode = heap[child]
            guard less(childNode, node) else { break }
            place(childNode, at: index)
            index = child
        }
        place(node, at: index)
    }

    /// Removes the node at `index`: the last node takes its place and moves up or down.
    private func removeNode(at index: Int) {
        count -= 1
        guard index != count else { return }
        let last = heap[count]
        place(last, at: index)
        if index > 0, less(last, heap[(index - 1) / 2]) {
            siftUp(index)
        } else {
            siftDown(index)
        }
    }

    private func growHeap() {
        let newCapacity = heapCapacity * 2
        let newHeap = UnsafeMutablePointer<Node>.allocate(capacity: newCapacity)
        newHeap.moveInitialize(from: heap, count: count)
        heap.deallocate()
        heap = newHeap
        heapCapacity = newCapacity
    }

    // MARK: Slab

    private func takeSlot() -> UInt32 {
        if freeHead != DeadlineHeap.noSlot {
            let slot = freeHead
            freeHead = slots[Int(slot)].nextFree
            return slot
        }
        if slotCount == slotCapacity { growSlots() }
        precondition(slotCount < Int(DeadlineHeap.noSlot), "too many pending deadlines")
        let slot = UInt32(slotCount)
        (slots + slotCount).initialize(to: Slot(generation: 0, heapIndex: -1, nextFree: DeadlineHeap.noSlot, value: nil))
        slotCount += 1
        return slot
    }

    /// Frees `slot` for reuse under a new generation and returns the value it held.
    private func releaseSlot(_ slot: UInt32) -> Value? {
        let entry = slots + Int(slot)
        let value = entry.pointee.value.take()
        entry.pointee.generation &+= 1
        entry.pointee.heapIndex = -1
        entry.pointee.nextFree = freeHead
        freeHead = slot
        return value
    }

    private func growSlots() {
        let newCapacity = slotCapacity * 2
        let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
        newSlots.moveInitialize(from: slots, count: slotCount)
        slots.deallocate()
        slots = newSlots
        slotCapacity = newCapacity
    }
}
