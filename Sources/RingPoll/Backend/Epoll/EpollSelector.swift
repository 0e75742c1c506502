import CLiburing
import Glibc
import Synchronization
import SystemPackage

/// Readiness from epoll, for kernels or sandboxes without io_uring, with the same semantics as
/// the io_uring selector: the same registration table enforces the same rules, epoll's
/// `data.u64` carries the same slot and generation, and events leave through the same ready
/// list. epoll itself is thread-safe, so registry calls go straight to `epoll_ctl`.
final class EpollSelector: Selector, @unchecked Sendable {
    let backend = Backend.epoll
    private let state: Mutex<EpollState>
    /// Outside the lock (see `PollerWake`), and open until the selector is gone.
    private let wakeSignal: WakeSignal

    init() throws(Errno) {
        let signal = try WakeSignal()
        state = Mutex(try EpollState.make(wakeDescriptor: signal.descriptor))
        wakeSignal = signal
    }

    func register(_ request: RegistrationRequest) throws(Errno) {
        try state.withLock { state throws(Errno) in try state.register(request) }
    }

    func reregister(_ request: RegistrationRequest) throws(Errno) {
        try state.withLock { state throws(Errno) in try state.reregister(request) }
    }

    func deregister(descriptor: CInt, ownership: DescriptorOwnership) throws(Errno) {
        try state.withLock { state throws(Errno) in try state.deregister(descriptor: descriptor) }
    }

    func closeRegistered(descriptor: CInt, keepingNumber: Bool) {
        // No EPOLL_CTL_DEL: closing the file removes it from epoll (so does covering its number
        // with the placeholder). Should the file live on through a duplicate, its events carry a
        // retired generation and are dropped.
        state.withLock { $0.forget(descriptor: descriptor) }
        if keepingNumber {
            _ = DescriptorPlaceholder.cover(descriptor)
        } else {
            Glibc.close(descriptor)
        }
    }

    func addWaker(token: Token) throws(Errno) -> WakerID {
        try state.withLock { state throws(Errno) in
            guard !state.isClosed else { throw Errno.badFileDescriptor }
            return state.table.addWaker(token: token)
        }
    }

    func wake(_ waker: WakerID) throws(Errno) {
        let signal = state.withLock { state -> Bool in
            guard !state.isClosed, state.table.isCurrent(slot: waker.slot, generation: waker.generation) else { return false }
            state.table.markReady(waker.slot, bits: PollBits.input)
            state.wake.request()
            return state.wake.takePendingSignal()
        }
        // With the lock released: the woken poller needs it at once.
        if signal { wakeSignal.signal() }
    }

    func removeWaker(_ waker: WakerID) {
        state.withLock { state in
            if state.table.isCurrent(slot: waker.slot, generation: waker.generation) {
                state.table.remove(waker.slot)
            }
        }
    }

    func select(_ events: inout Events, timeout: Duration?) throws(Errno) {
        events.removeAll()
        guard events.capacity > 0 else { throw .invalidArgument }
        let deadline = Deadline(timeout: timeout)
        while true {
            let plan = try state.withLock { state throws(Errno) in
                try state.prepareWait(deadline: deadline, capacity: events.capacity)
            }
            let result = plan.room > 0 ? rp_epoll_wait(plan.epoll, plan.buffer, plan.room, plan.timeout) : 0
            let delivers = result != -EINTR
            state.withLock { state in
                state.finishWait(received: max(0, Int(result)), into: &events, delivering: delivers)
            }
            if result == -EINTR { throw .interrupted }
            if result < 0 { throw Errno(rawValue: -result) }
            if !events.isEmpty || deadline.hasExpired { return }
        }
    }

    func close() {
        state.withLock { $0.close() }
    }

    var diagnostics: SelectorDiagnostics {
        state.withLock { SelectorDiagnostics(isPollerAsleep: $0.isAsleep) }
    }
}

/// What `select` needs to wait in `epoll_pwait2` without holding the lock.
struct EpollWaitPlan {
    var epoll: CInt
    var buffer: UnsafeMutablePointer<rp_epoll_event>
    /// How many events the kernel may return: the room left after events already queued.
    var room: Int32
    var timeout: Int64
}

struct EpollState: ~Copyable {
    var table = RegistrationTable()
    var isClosed = false

    private var epoll: CInt
    var wake = PollerWake()
    private var buffer: UnsafeMutablePointer<rp_epoll_event>
    private var bufferCapacity = 1

    /// Creates the epoll instance with the wake eventfd registered in it (edge-triggered, so
    /// every write wakes the poller and nobody ever reads the count).
    static func make(wakeDescriptor: CInt) throws(Errno) -> EpollState {
        let epoll = rp_epoll_create()
        guard epoll >= 0 else { throw Errno(rawValue: -epoll) }
        let edge = PollBits.input | PollBits.epollEdge
        let added = rp_epoll_ctl(epoll, RP_EPOLL_ADD, wakeDescriptor, edge, UserData.wake.rawValue)
        guard added == 0 else {
            Glibc.close(epoll)
            throw Errno(rawValue: -added)
        }
        return EpollState(epoll: epoll)
    }

    private init(epoll: CInt) {
        self.epoll = epoll
        buffer = .allocate(capacity: bufferCapacity)
    }

    deinit {
        if epoll >= 0 { Glibc.close(epoll) }
        buffer.deallocate()
    }

    // MARK: Registry operations (any thread)

    mutating func register(_ request: RegistrationRequest) throws(Errno) {
        guard !isClosed else { throw .badFileDescriptor }
        guard !request.interests.isEmpty else { throw .invalidArgument }
        guard request.descriptor >= 0 else { throw .badFileDescriptor }
        let identity = request.ownership == .borrowed ? try FileIdentity.of(request.descriptor) : nil
        var replaced: UInt32?
        switch try table.existing(for: request.descriptor, identity: identity) {
        case .none:
            break
        case .duplicate:
            throw .fileExists
        case .sameInode(let slot), .stale(let slot):
            // epoll knows files, not inodes: its EEXIST below tells a duplicate from a reopen.
            replaced = slot
        }
        let slot = table.addDescriptor(request, identity: identity, arm: .kernelManaged)
        let added = control(RP_EPOLL_ADD, slot: slot)
        if added != 0 {
            let error = Errno(rawValue: -added)
            table.remove(slot)
            if let replaced { table.restoreDescriptorIndex(of: replaced) }
            throw error
        }
        if let replaced { table.remove(replaced) }
    }

    mutating func reregister(_ request: RegistrationRequest) throws(Errno) {
        guard !isClosed else { throw .badFileDescriptor }
        guard let slot = table.slot(forDescriptor: request.descriptor) else { throw .noSuchFileOrDirectory }
        guard !request.interests.isEmpty else { throw .invalidArgument }
        table.renew(slot, with: request, arm: .kernelManaged)
        let modified = control(RP_EPOLL_MOD, slot: slot)
        if modified != 0 {
            let error = Errno(rawValue: -modified)
            // ENOENT: the registered file was closed and the number now names another file.
            if error == .noSuchFileOrDirectory { table.remove(slot) }
            throw error
        }
    }

    mutating func deregister(descriptor: CInt) throws(Errno) {
        guard !isClosed else { throw .badFileDescriptor }
        guard let slot = table.slot(forDescriptor: descriptor) else { throw .noSuchFileOrDirectory }
        // EBADF or ENOENT here mean the file was already closed, and epoll forgot it on its own.
        _ = rp_epoll_ctl(epoll, RP_EPOLL_DEL, descriptor, 0, 0)
        table.remove(slot)
    }

    var isAsleep: Bool { wake.isAsleep }

    /// Drops the registration of a descriptor that is about to be closed.
    mutating func forget(descriptor: CInt) {
        if let slot = table.slot(forDescriptor: descriptor) { table.remove(slot) }
    }

    /// `epoll_ctl` for the registration in `slot`; 0 or -errno.
    private func control(_ operation: rp_epoll_op, slot: UInt32) -> Int32 {
        let registration = table[slot]
        var events = registration.requestedBits
        switch registration.trigger {
        case .edge: events |= PollBits.epollEdge
        case .oneshot: events |= PollBits.epollOneshot
        case .level: break
        }
        let data = UserData(kind: .poll, slot: slot, generation: registration.generation).rawValue
        return rp_epoll_ctl(epoll, operation, registration.descriptor, events, data)
    }

    // MARK: Polling (the poll thread)

    mutating func prepareWait(deadline: Deadline, capacity: Int) throws(Errno) -> EpollWaitPlan {
        guard !isClosed else { throw .badFileDescriptor }
        if bufferCapacity < capacity {
            // Only when a bigger `Events` than ever before is passed in.
            buffer.deallocate()
            buffer = .allocate(capacity: capacity)
            bufferCapacity = capacity
        }
        let room = Int32(clamping: capacity - table.readyCount)
        let timeout = table.readyCount > 0 ? 0 : deadline.remainingNanoseconds()
        wake.willWait(blocking: timeout != 0 && room > 0)
        return EpollWaitPlan(epoll: epoll, buffer: buffer, room: room, timeout: timeout)
    }

    mutating func finishWait(received count: Int, into events: inout Events, delivering: Bool) {
        wake.didWait()
        for index in 0..<count {
            let event = buffer[index]
            guard let userData = UserData(rawValue: event.data), userData.kind == .poll,
                  table.isCurrent(slot: userData.slot, generation: userData.generation) else { continue }
            table.markReady(userData.slot, bits: event.events)
        }
        if delivering {
            table.deliver(into: &events, confirmClosure: false)
        }
    }

    mutating func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(epoll)
        epoll = -1
    }
}
