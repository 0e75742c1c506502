import Glibc
import SystemPackage

/// The registrations of one `Poll`, shared by both backends: slot allocation, the descriptor
/// index that enforces the registration rules, generations, per-registration merging of
/// readiness and the ready list that carries events over to the next poll.
///
/// Nothing here allocates once the table has grown to its working size: the ready list and the
/// submission list are threaded through preallocated storage, and slots are reached through
/// addressors (a `_modify` coroutine would allocate its frame in unoptimized builds).
struct RegistrationTable: ~Copyable {
    static let noSlot = UInt32.max
    /// Generations are 30 bits wide so that they fit in io_uring's user_data with the slot.
    static let generationMask: UInt32 = (1 << 30) - 1

    private var slots = RegistrationTable.allocateSlots(capacity: 0)
    private var slotCount = 0
    private var slotCapacity = 0
    private var freeSlots = SlotDeque()
    /// Slot + 1 for every registered descriptor number, 0 for none.
    private var slotByDescriptor: ContiguousArray<UInt32> = []

    private var readyHead = noSlot
    private var readyTail = noSlot
    /// Slots on the ready list.
    private(set) var readyCount = 0

    /// Slots whose kernel request must be (re)submitted (io_uring), oldest first.
    private var scheduled = SlotDeque()

    init() {}

    deinit {
        slots.deinitialize(count: slotCount)
        UnsafeMutableRawPointer(slots).deallocate()
    }

    /// Slot storage aligned to cache lines: a registration is 61 bytes, so each one then sits in
    /// a single line instead of straddling two (a register+deregister storm touches every slot
    /// twice per round, after the kernel's work has pushed them out of the cache).
    private static func allocateSlots(capacity: Int) -> UnsafeMutablePointer<Registration> {
        let stride = MemoryLayout<Registration>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity) * stride, alignment: 64)
        return raw.bindMemory(to: Registration.self, capacity: capacity)
    }

    subscript(slot: UInt32) -> Registration {
        unsafeAddress {
            assert(Int(slot) < slotCount)
            return UnsafePointer(slots + Int(slot))
        }
        unsafeMutableAddress {
            assert(Int(slot) < slotCount)
            return slots + Int(slot)
        }
    }

    /// Whether `slot` still holds the registration that `generation` was issued for.
    func isCurrent(slot: UInt32, generation: UInt32) -> Bool {
        Int(slot) < slotCount && slots[Int(slot)].kind != .free && slots[Int(slot)].generation == generation
    }

    func slot(forDescriptor descriptor: CInt) -> UInt32? {
        guard descriptor >= 0, Int(descriptor) < slotByDescriptor.count else { return nil }
        let entry = slotByDescriptor[Int(descriptor)]
        return entry == 0 ? nil : entry - 1
    }

    // MARK: Registration rules

    /// What an existing registration of the same descriptor number means for a new one.
    enum Existing {
        case none
        /// The same file is registered: `Errno.fileExists`.
        case duplicate(UInt32)
        /// Same inode, so most likely the same file; epoll can still tell a reopened file apart.
        case sameInode(UInt32)
        /// The registered number was closed and reused by another file: the old registration is
        /// stale and must be removed.
        case stale(UInt32)
    }

    /// Classifies an existing registration of `descriptor`. `identity` is the new registrant's,
    /// when already known. Throws `Errno.badFileDescriptor` when the number is not open.
    func existing(for descriptor: CInt, identity: FileIdentity?) throws(Errno) -> Existing {
        guard let slot = slot(forDescriptor: descriptor) else { return .none }
        // An owned descriptor is deregistered before it is closed: its entry is never stale.
        guard let registered = slots[Int(slot)].identity else { return .duplicate(slot) }
        let current = if let identity { identity } else { try FileIdentity.of(descriptor) }
        return current == registered ? .sameInode(slot) : .stale(slot)
    }

    // MARK: Slots

    /// Stores a new descriptor registration. The caller has checked the rules.
    mutating func addDescriptor(_ request: RegistrationRequest, identity: FileIdentity?, arm: ArmState) -> UInt32 {
        let slot = allocateSlot()
        slots[Int(slot)].kind = .descriptor
        slots[Int(slot)].descriptor = request.descriptor
        slots[Int(slot)].identity = identity
        renew(slot, with: request, arm: arm)
        let index = Int(request.descriptor)
        if index >= slotByDescriptor.count {
            slotByDescriptor.append(contentsOf: repeatElement(0, count: max(index + 1, slotByDescriptor.count * 2) - slotByDescriptor.count))
        }
        slotByDescriptor[index] = slot + 1
        return slot
    }

    /// Points the descriptor index back at `slot` after a failed replacement.
    mutating func restoreDescriptorIndex(of slot: UInt32) {
        slotByDescriptor[Int(slots[Int(slot)].descriptor)] = slot + 1
    }

    mutating func addWaker(token: Token) -> WakerID {
        let slot = allocateSlot()
        slots[Int(slot)].kind = .waker
        slots[Int(slot)].token = token
        slots[Int(slot)].generation = nextGeneration(slot)
        return WakerID(slot: slot, generation: slots[Int(slot)].generation)
    }

    /// Gives a registration a new token, interest and trigger under a new generation, dropping
    /// readiness seen under the old one (the new arm re-reports what still holds).
    mutating func renew(_ slot: UInt32, with request: RegistrationRequest, arm: ArmState) {
        slots[Int(slot)].generation = nextGeneration(slot)
        slots[Int(slot)].token = request.token
        slots[Int(slot)].interests = request.interests
        slots[Int(slot)].trigger = request.trigger
        slots[Int(slot)].pendingBits = 0
        slots[Int(slot)].sawMore = false
        slots[Int(slot)].strikes = 0
        slots[Int(slot)].waitsWithMultishot = false
        slots[Int(slot)].arm = arm
        if arm == .pending { schedule(slot) }
    }

    /// Frees a slot. Its generation moves on, so every completion or event still in flight for
    /// it is recognised as stale; a queued entry on the ready list is skipped at delivery.
    mutating func remove(_ slot: UInt32) {
        let registration = slots + Int(slot)
        if registration.pointee.kind == .descriptor, self.slot(forDescriptor: registration.pointee.descriptor) == slot {
            slotByDescriptor[Int(registration.pointee.descriptor)] = 0
        }
        registration.pointee.generation = nextGeneration(slot)
        registration.pointee.kind = .free
        registration.pointee.identity = nil
        registration.pointee.pendingBits = 0
        registration.pointee.arm = .kernelManaged
        freeSlots.pushBack(slot)
    }

    /// Moves the slot's generation on without changing the registration, so that whatever its
    /// current kernel request still completes is stale (the request is being cancelled).
    mutating func reissue(_ slot: UInt32) {
        slots[Int(slot)].generation = nextGeneration(slot)
    }

    private func nextGeneration(_ slot: UInt32) -> UInt32 {
        let next = (slots[Int(slot)].generation &+ 1) & RegistrationTable.generationMask
        return next == 0 ? 1 : next
    }

    private mutating func allocateSlot() -> UInt32 {
        if let slot = freeSlots.popBack() { return slot }
        if slotCount == slotCapacity {
            let capacity = Swift.max(64, slotCapacity * 2)
            let grown = RegistrationTable.allocateSlots(capacity: capacity)
            grown.moveInitialize(from: slots, count: slotCount)
            UnsafeMutableRawPointer(slots).deallocate()
            slots = grown
            slotCapacity = capacity
            // Grow the lists that hold at most one entry per slot together with the slots, so
            // that appending to them never allocates on the poll path.
            scheduled.reserveCapacity(capacity)
            freeSlots.reserveCapacity(capacity)
        }
        (slots + slotCount).initialize(to: Registration())
        slotCount += 1
        return UInt32(slotCount - 1)
    }

    // MARK: Submission list (io_uring)

    mutating func schedule(_ slot: UInt32) {
        guard !slots[Int(slot)].isScheduled else { return }
        slots[Int(slot)].isScheduled = true
        scheduled.pushBack(slot)
    }

    /// The oldest scheduled slot, taken off the list.
    mutating func popScheduled() -> UInt32? {
        guard let slot = scheduled.popFront() else { return nil }
        slots[Int(slot)].isScheduled = false
        return slot
    }

    /// Puts back the slot `popScheduled` just returned, when it could not be handled yet.
    mutating func unpopScheduled(_ slot: UInt32) {
        scheduled.pushFront(slot)
        slots[Int(slot)].isScheduled = true
    }

    // MARK: Readiness

    /// Merges `bits` into the slot's pending readiness and puts it on the ready list once.
    mutating func markReady(_ slot: UInt32, bits: UInt32) {
        slots[Int(slot)].pendingBits |= bits
        guard !slots[Int(slot)].isQueued else { return }
        slots[Int(slot)].isQueued = true
        slots[Int(slot)].nextReady = RegistrationTable.noSlot
        if readyTail == RegistrationTable.noSlot {
            readyHead = slot
        } else {
            slots[Int(readyTail)].nextReady = slot
        }
        readyTail = slot
        readyCount += 1
    }

    /// Moves queued readiness into `events`, oldest first, until `events` is full; the rest
    /// stays queued for the next poll. With `confirmClosure`, hang-up and error bits are checked
    /// against the file's current state first, because io_uring completions are snapshots.
    mutating func deliver(into events: inout Events, confirmClosure: Bool) {
        while events.remainingCapacity > 0, readyHead != RegistrationTable.noSlot {
            let slot = readyHead
            readyHead = slots[Int(slot)].nextReady
            if readyHead == RegistrationTable.noSlot { readyTail = RegistrationTable.noSlot }
            readyCount -= 1
            slots[Int(slot)].isQueued = false
            var bits = slots[Int(slot)].pendingBits
            slots[Int(slot)].pendingBits = 0
            guard bits != 0, slots[Int(slot)].kind != .free else { continue }
            if confirmClosure, bits & PollBits.closure != 0, slots[Int(slot)].kind == .descriptor {
                bits = RegistrationTable.confirmingClosure(bits, of: slots[Int(slot)])
            }
            events.append(Event(token: slots[Int(slot)].token, bits: bits))
            if slots[Int(slot)].arm == .awaitingDelivery {
                slots[Int(slot)].arm = .pending
                schedule(slot)
            }
        }
    }

    /// `bits` with hang-up and error replaced by what poll(2) says about the file now.
    private static func confirmingClosure(_ bits: UInt32, of registration: Registration) -> UInt32 {
        var probe = pollfd(fd: registration.descriptor, events: Int16(truncatingIfNeeded: registration.requestedBits), revents: 0)
        guard poll(&probe, 1, 0) >= 0 else { return bits }
        let now = UInt32(UInt16(bitPattern: probe.revents))
        if now & PollBits.invalid != 0 { return bits }  // closed behind our back: keep what was seen
        let sticky = PollBits.closure | PollBits.readHangUp
        return (bits & ~sticky) | (now & sticky)
    }

    /// Schedules every armed registration for arming again, because the ring that held their
    /// requests is gone.
    mutating func rescheduleArmed() {
        for index in 0..<slotCount where slots[index].kind == .descriptor && slots[index].arm == .armed {
            slots[index].arm = .pending
            schedule(UInt32(index))
        }
    }
}
