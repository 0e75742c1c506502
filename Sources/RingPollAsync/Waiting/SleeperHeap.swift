/// The executor's sleeping tasks: an indexed binary min-heap of deadlines over a slab of slots,
/// in the style of the event loop's `TimerHeap`.
///
/// Insert and cancel are O(log n) (every slot knows where its node sits, so a cancelled sleep is
/// removed in place); the next deadline is O(1); ties wake in the order the sleeps began. Raw
/// memory, no allocation once grown to the working size. Confined to the executor thread.
final class SleeperHeap {
    struct Node {
        var deadline: UInt64
        var sequence: UInt64
        var slot: UInt32
    }

    struct Slot {
        var generation: UInt32
        var heapIndex: Int
        var nextFree: UInt32
        var waiter: Waiter?
    }

    private static let noSlot = UInt32.max

    private var heap: UnsafeMutablePointer<Node>
    private var heapCapacity: Int
    private(set) var count = 0
    private var slots: UnsafeMutablePointer<Slot>
    private var slotCapacity: Int
    private var slotCount = 0
    private var freeHead = SleeperHeap.noSlot
    private var nextSequence: UInt64 = 0

    init(initialCapacity: Int = 16) {
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

    var isEmpty: Bool { count == 0 }

    /// The earliest deadline (monotonic nanoseconds), or nil.
    var nextDeadline: UInt64? { count > 0 ? heap[0].deadline : nil }

    /// Takes a slot for a sleep that `schedule` starts right after (the slot is named first so
    /// that a cancellation handler can be set up before the task parks).
    func reserve() -> (slot: UInt32, generation: UInt32) {
        let slot = takeSlot()
        return (slot, slots[Int(slot)].generation)
    }

    /// Parks `waiter` in a reserved slot until `deadline`.
    func schedule(slot: UInt32, _ waiter: Waiter, deadline: UInt64) {
        slots[Int(slot)].waiter = waiter
        if count == heapCapacity { growHeap() }
        let index = count
        count += 1
        heap[index] = Node(deadline: deadline, sequence: nextSequence, slot: slot)
        nextSequence &+= 1
        slots[Int(slot)].heapIndex = index
        siftUp(index)
    }

    /// Removes the sleep in `slot` if it is still the one of `generation` and waits under `id`;
    /// returns its waiter.
    func cancel(slot: UInt32, generation: UInt32, id: UInt64) -> Waiter? {
        guard Int(slot) < slotCount else { return nil }
        let entry = slots + Int(slot)
        guard entry.pointee.generation == generation, let waiter = entry.pointee.waiter, waiter.id == id else { return nil }
        removeNode(at: entry.pointee.heapIndex)
        return releaseSlot(slot)
    }

    /// Removes and returns the earliest sleeper if its deadline ≤ `now`.
    func popExpired(now: UInt64) -> Waiter? {
        guard count > 0, heap[0].deadline <= now else { return nil }
        let slot = heap[0].slot
        removeNode(at: 0)
        return releaseSlot(slot)
    }

    /// Removes and returns any sleeper (executor shutdown).
    func popAny() -> Waiter? {
        guard count > 0 else { return nil }
        let slot = heap[count - 1].slot
        removeNode(at: count - 1)
        return releaseSlot(slot)
    }

    // MARK: Heap

    private func less(_ a: Node, _ b: Node) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }

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
            if left + 1 < count, less(heap[left + 1], heap[left]) { child = left + 1 }
            let childNode = heap[child]
            guard less(childNode, node) else { break }
            place(childNode, at: index)
            index = child
        }
        place(node, at: index)
    }

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
        if freeHead != SleeperHeap.noSlot {
            let slot = freeHead
            freeHead = slots[Int(slot)].nextFree
            return slot
        }
        if slotCount == slotCapacity {
            let newCapacity = slotCapacity * 2
            let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
            newSlots.moveInitialize(from: slots, count: slotCount)
            slots.deallocate()
            slots = newSlots
            slotCapacity = newCapacity
        }
        precondition(slotCount < Int(SleeperHeap.noSlot), "too many sleeping tasks")
        (slots + slotCount).initialize(to: Slot(generation: 0, heapIndex: -1, nextFree: SleeperHeap.noSlot, waiter: nil))
        slotCount += 1
        return UInt32(slotCount - 1)
    }

    private func releaseSlot(_ slot: UInt32) -> Waiter? {
        let entry = slots + Int(slot)
        let waiter = entry.pointee.waiter.take()
        entry.pointee.generation &+= 1
        entry.pointee.heapIndex = -1
        entry.pointee.nextFree = freeHead
        freeHead = slot
        return waiter
    }
}
