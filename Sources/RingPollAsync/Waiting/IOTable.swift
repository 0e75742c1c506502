/// The executor thread's table of registered sockets: per socket, the readiness last seen and,
/// per direction, the operation in progress and the operations queued behind it.
///
/// - **Readiness bits** (as tokio's `ScheduledIo`): an event sets them, a would-block (or a short
///   read or write) clears its direction's bit. An operation whose bit is clear suspends without
///   a system call; the next edge sets the bit and resumes it directly.
/// - **One operation per direction at a time.** A read (or write, accept, receive) that finds its
///   direction busy waits for its turn in FIFO order, so two `write`s of whole buffers never
///   interleave. Turn waiters are nodes of a pool shared by all slots.
/// - **Generations.** A slot is reused under a new generation; tokens, handles and cancellation
///   requests carry the generation, so nothing meant for a closed socket reaches the next one.
///
/// Storage is raw memory reached through pointers (no `_modify` coroutine, whose frame an
/// unoptimized build allocates per access); it grows only when the number of sockets or of
/// queued operations reaches a new high. Confined to the executor thread.
final class IOTable {
    struct Slot {
        var generation: UInt32
        var inUse: Bool
        /// `Direction.readinessBit`s.
        var readiness: UInt8
        var nextFree: UInt32
    }

    struct DirectionState {
        /// An operation holds the direction (it runs, or waits for readiness).
        var busy = false
        /// The holder, while it waits for readiness.
        var waiter: Waiter?
        /// Operations waiting for their turn: a list of turn nodes, oldest first.
        var turnHead = IOTable.none
        var turnTail = IOTable.none
    }

    struct TurnNode {
        var waiter: Waiter?
        var next: UInt32
    }

    static let none = UInt32.max

    private var slots: UnsafeMutablePointer<Slot>
    /// Two per slot: `slot * 2 + direction`.
    private var directions: UnsafeMutablePointer<DirectionState>
    private var capacity: Int
    private var slotCount = 0
    private var freeSlot = IOTable.none
    private(set) var liveSlots = 0

    private var nodes: UnsafeMutablePointer<TurnNode>
    private var nodeCapacity: Int
    private var nodeCount = 0
    private var freeNode = IOTable.none
    /// Tasks suspended in this table (readiness and turn waits).
    private(set) var waiting = 0

    init(initialCapacity: Int = 64) {
        capacity = Swift.max(1, initialCapacity)
        slots = .allocate(capacity: capacity)
        directions = .allocate(capacity: capacity * 2)
        nodeCapacity = 16
        nodes = .allocate(capacity: nodeCapacity)
    }

    deinit {
        directions.deinitialize(count: slotCount * 2)
        directions.deallocate()
        slots.deinitialize(count: slotCount)
        slots.deallocate()
        nodes.deinitialize(count: nodeCount)
        nodes.deallocate()
    }

    // MARK: Slots

    /// A new slot, its readiness optimistic (readable and writable), so that the first
    /// operation tries its system call before it waits.
    func allocate() -> (slot: UInt32, generation: UInt32) {
        let slot: UInt32
        if freeSlot != IOTable.none {
            slot = freeSlot
            freeSlot = slots[Int(slot)].nextFree
        } else {
            if slotCount == capacity { grow() }
            precondition(slotCount < Int(Int32.max), "too many sockets on one executor")
            slot = UInt32(slotCount)
            (slots + slotCount).initialize(to: Slot(generation: 0, inUse: false, readiness: 0, nextFree: IOTable.none))
            (directions + slotCount * 2).initialize(repeating: DirectionState(), count: 2)
            slotCount += 1
        }
        let entry = slots + Int(slot)
        entry.pointee.inUse = true
        entry.pointee.readiness = Direction.read.readinessBit | Direction.write.readinessBit
        liveSlots += 1
        return (slot, entry.pointee.generation)
    }

    func isLive(_ slot: UInt32, _ generation: UInt32) -> Bool {
        Int(slot) < slotCount && slots[Int(slot)].inUse && slots[Int(slot)].generation == generation
    }

    /// Frees the slot and resumes everything that waits on it with `outcome`.
    func release(_ slot: UInt32, _ generation: UInt32, outcome: WaitOutcome = .closed) {
        guard isLive(slot, generation) else { return }
        endWaits(state(slot, .read), outcome)
        endWaits(state(slot, .write), outcome)
        let entry = slots + Int(slot)
        entry.pointee.inUse = false
        entry.pointee.generation = (entry.pointee.generation &+ 1) & 0x3FFF_FFFF
        entry.pointee.readiness = 0
        entry.pointee.nextFree = freeSlot
        freeSlot = slot
        liveSlots -= 1
    }

    /// Resumes every waiter of every live slot with `outcome` (executor shutdown).
    func endAllWaits(_ outcome: WaitOutcome) {
        guard waiting > 0 else { return }
        for slot in 0..<slotCount where slots[slot].inUse {
            endWaits(state(UInt32(slot), .read), outcome)
            endWaits(state(UInt32(slot), .write), outcome)
        }
    }

    private func endWaits(_ state: UnsafeMutablePointer<DirectionState>, _ outcome: WaitOutcome) {
        if let waiter = state.pointee.waiter.take() {
            waiting -= 1
            waiter.resume(outcome)
        }
        while let waiter = popTurn(state) {
            waiter.resume(outcome)
        }
    }

    private func state(_ slot: UInt32, _ direction: Direction) -> UnsafeMutablePointer<DirectionState> {
        directions + (Int(slot) * 2 + direction.rawValue)
    }

    // MARK: Readiness

    func isReady(_ slot: UInt32, _ direction: Direction) -> Bool {
        slots[Int(slot)].readiness & direction.readinessBit != 0
    }

    func clearReadiness(_ slot: UInt32, _ direction: Direction) {
        slots[Int(slot)].readiness &= ~direction.readinessBit
    }

    /// An event: sets the bits and resumes the holders waiting for them.
    func markReady(_ slot: UInt32, _ generation: UInt32, readable: Bool, writable: Bool) {
        guard isLive(slot, generation) else { return }
        let entry = slots + Int(slot)
        if readable {
            entry.pointee.readiness |= Direction.read.readinessBit
            wakeHolder(state(slot, .read))
        }
        if writable {
            entry.pointee.readiness |= Direction.write.readinessBit
            wakeHolder(state(slot, .write))
        }
    }

    private func wakeHolder(_ state: UnsafeMutablePointer<DirectionState>) {
        if let waiter = state.pointee.waiter.take() {
            waiting -= 1
            waiter.resume(.ready)
        }
    }

    /// Parks the holder of `direction` until its readiness bit is set.
    func parkHolder(_ slot: UInt32, _ direction: Direction, _ waiter: Waiter) {
        let state = state(slot, direction)
        precondition(state.pointee.waiter == nil, "one readiness waiter per direction")
        state.pointee.waiter = waiter
        waiting += 1
    }

    /// A cancelled holder: resumes it if it still waits under `id`.
    func cancelHolder(_ slot: UInt32, _ generation: UInt32, _ direction: Direction, id: UInt64) {
        guard isLive(slot, generation) else { return }
        let state = state(slot, direction)
        guard let waiter = state.pointee.waiter, waiter.id == id else { return }
        state.pointee.waiter = nil
        waiting -= 1
        waiter.resume(.cancelled)
    }

    // MARK: Turns

    /// Takes `direction` at once if nobody holds it.
    func tryAcquire(_ slot: UInt32, _ direction: Direction) -> Bool {
        let state = state(slot, direction)
        guard !state.pointee.busy else { return false }
        state.pointee.busy = true
        return true
    }

    /// Queues an operation behind the holder; `release` hands it the direction.
    func parkForTurn(_ slot: UInt32, _ direction: Direction, _ waiter: Waiter) {
        let node = takeNode()
        nodes[Int(node)] = TurnNode(waiter: waiter, next: IOTable.none)
        let state = state(slot, direction)
        if state.pointee.turnTail == IOTable.none {
            state.pointee.turnHead = node
        } else {
            nodes[Int(state.pointee.turnTail)].next = node
        }
        state.pointee.turnTail = node
        waiting += 1
    }

    /// The holder is done: the next queued operation becomes the holder, or the direction is free.
    func release(_ slot: UInt32, _ generation: UInt32, _ direction: Direction) {
        guard isLive(slot, generation) else { return }
        let state = state(slot, direction)
        if let next = popTurn(state) {
            next.resume(.ready)  // `busy` stays set: the direction passes to it
        } else {
            state.pointee.busy = false
        }
    }

    /// A cancelled turn waiter: unlinks and resumes it if it still waits under `id`.
    func cancelTurn(_ slot: UInt32, _ generation: UInt32, _ direction: Direction, id: UInt64) {
        guard isLive(slot, generation) else { return }
        let state = state(slot, direction)
        var previous = IOTable.none
        var node = state.pointee.turnHead
        while node != IOTable.none {
            let next = nodes[Int(node)].next
            if let waiter = nodes[Int(node)].waiter, waiter.id == id {
                if previous == IOTable.none { state.pointee.turnHead = next } else { nodes[Int(previous)].next = next }
                if state.pointee.turnTail == node { state.pointee.turnTail = previous }
                freeNode(node)
                waiting -= 1
                waiter.resume(.cancelled)
                return
            }
            previous = node
            node = next
        }
    }

    private func popTurn(_ state: UnsafeMutablePointer<DirectionState>) -> Waiter? {
        let node = state.pointee.turnHead
        guard node != IOTable.none else { return nil }
        state.pointee.turnHead = nodes[Int(node)].next
        if state.pointee.turnHead == IOTable.none { state.pointee.turnTail = IOTable.none }
        let waiter = nodes[Int(node)].waiter
        freeNode(node)
        waiting -= 1
        return waiter
    }

    private func takeNode() -> UInt32 {
        if freeNode != IOTable.none {
            let node = freeNode
            freeNode = nodes[Int(node)].next
            return node
        }
        if nodeCount == nodeCapacity {
            let newCapacity = nodeCapacity * 2
            let newNodes = UnsafeMutablePointer<TurnNode>.allocate(capacity: newCapacity)
            newNodes.moveInitialize(from: nodes, count: nodeCount)
            nodes.deallocate()
            nodes = newNodes
            nodeCapacity = newCapacity
        }
        (nodes + nodeCount).initialize(to: TurnNode(waiter: nil, next: IOTable.none))
        nodeCount += 1
        return UInt32(nodeCount - 1)
    }

    private func freeNode(_ node: UInt32) {
        nodes[Int(node)] = TurnNode(waiter: nil, next: freeNode)
        freeNode = node
    }

    private func grow() {
        let newCapacity = capacity * 2
        let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
        newSlots.moveInitialize(from: slots, count: slotCount)
        slots.deallocate()
        slots = newSlots
        let newDirections = UnsafeMutablePointer<DirectionState>.allocate(capacity: newCapacity * 2)
        newDirections.moveInitialize(from: directions, count: slotCount * 2)
        directions.deallocate()
        directions = newDirections
        capacity = newCapacity
    }
}
