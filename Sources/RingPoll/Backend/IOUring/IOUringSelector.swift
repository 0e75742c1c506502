import CLiburing
import Glibc
import Synchronization
import SystemPackage

/// Readiness from multishot `IORING_OP_POLL_ADD` requests.
///
/// Only the polling thread touches the ring. Registry calls from any thread change the
/// registration table under a mutex and schedule the kernel work; the next `select` submits it
/// in the same `io_uring_enter` that waits. If the poller is asleep, an internal eventfd wakes it
/// so that the change takes effect in that very call. See docs/DESIGN.md.
final class IOUringSelector: Selector, @unchecked Sendable {
    let backend = Backend.ioUring
    private let state: Mutex<IOUringState>
    /// Outside the lock (see `PollerWake`), and open until the selector is gone: wakers and
    /// registries keep the selector alive, so a late wake never writes to a reused number.
    private let wakeSignal: WakeSignal

    init(configuration: RingConfiguration) throws(Errno) {
        let signal = try WakeSignal()
        state = Mutex(try IOUringState.make(configuration: configuration, wakeDescriptor: signal.descriptor))
        wakeSignal = signal
    }

    /// Wakes a sleeping poller once the lock is released (the change under the lock decided).
    private func signal(if needed: Bool) {
        if needed { wakeSignal.signal() }
    }

    func register(_ request: RegistrationRequest) throws(Errno) {
        signal(if: try state.withLock { state throws(Errno) in
            try state.register(request)
            return state.wake.takePendingSignal()
        })
    }

    func reregister(_ request: RegistrationRequest) throws(Errno) {
        signal(if: try state.withLock { state throws(Errno) in
            try state.reregister(request)
            return state.wake.takePendingSignal()
        })
    }

    func deregister(descriptor: CInt, ownership: DescriptorOwnership) throws(Errno) {
        signal(if: try state.withLock { state throws(Errno) in
            try state.deregister(descriptor: descriptor)
            return state.wake.takePendingSignal()
        })
    }

    func closeRegistered(descriptor: CInt, keepingNumber: Bool) {
        let (closed, needed) = state.withLock { state in
            (state.cancelAndClose(descriptor: descriptor, closingNumber: !keepingNumber), state.wake.takePendingSignal())
        }
        signal(if: needed)
        // Off the ring's thread the cancel waits for the poller (woken if it sleeps). No
        // shutdown(2) to hurry the peer: it would end the connection for every other holder of
        // the socket (a dup, a forked child), which a close never does.
        if keepingNumber {
            _ = DescriptorPlaceholder.cover(descriptor)
        } else if !closed {
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
        signal(if: state.withLock { state in
            guard !state.isClosed, state.table.isCurrent(slot: waker.slot, generation: waker.generation) else { return false }
            state.table.markReady(waker.slot, bits: PollBits.input)
            state.wake.request()
            return state.wake.takePendingSignal()
        })
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
            let result = plan.skipsKernel ? 0 : rp_ring_submit_and_wait(plan.ring, plan.timeout)
            // Interrupted: reap, but keep the events queued for the next call.
            let delivers = result != -EINTR
            state.withLock { state in
                state.finishWait(into: &events, delivering: delivers)
            }
            switch result {
            case -EINTR:
                throw .interrupted
            case -EEXIST:
                // The ring belongs to another task: rebuild it on this thread and go on.
                state.withLock { $0.forgetRingOwner() }
                continue
            case let failure where failure < 0 && failure != -ETIME && failure != -EAGAIN && failure != -EBUSY:
                throw Errno(rawValue: -failure)
            default:
                break
            }
            // An internal wake-up (a registration from another thread, a stale completion) with
            // nothing to report goes back to sleep for the time left.
            if !events.isEmpty || deadline.hasExpired { return }
        }
    }

    func close() {
        state.withLock { $0.close() }
    }

    var diagnostics: SelectorDiagnostics {
        state.withLock { $0.diagnostics }
    }
}

/// What `select` needs to know to enter the kernel without holding the lock.
struct WaitPlan {
    var ring: OpaquePointer?
    var timeout: Int64
    var skipsKernel: Bool
}

/// The io_uring selector's state: the registration table plus the ring and its bookkeeping.
/// Lives inside the selector's mutex.
struct IOUringState: ~Copyable {
    var table = RegistrationTable()
    var isClosed = false
    /// Borrowed eventfds, timerfds and signalfds: identity beyond their shared inode.
    private var anonymousFiles = AnonymousFiles()

    private let configuration: RingConfiguration
    private var ring: OpaquePointer?
    /// `rp_thread_serial()` of the thread that owns the ring; 0 before the first poll.
    private var ringOwner: UInt64 = 0
    /// The eventfd other threads write to wake the poller; owned by the selector.
    private let wakeDescriptor: CInt
    private var wakeNeedsArm = true
    /// Cancels of kernel requests that no registration needs any more.
    private var pendingCancels: ContiguousArray<UserData> = []
    /// Cancels submitted since deferred task-work last ran. Each leaves one item of task-work
    /// (the cancelled poll's completion, which also drops its reference to the file), and a
    /// wait runs only about 20 items: without running them on purpose they would pile up, in
    /// kernel memory, without bound (a register+deregister loop reached a million).
    private var cancelsAwaitingTaskWork = 0
    var wake = PollerWake()
    /// A `select` is in progress on some thread.
    private var isPolling = false
    /// The CQ overflowed during this poll: multishot polls may have ended because of it.
    private var overflowedThisPoll = false
    private let completions: UnsafeMutablePointer<rp_completion>
    private static let completionBatch = 256
    private(set) var diagnostics = SelectorDiagnostics()

    /// Creates the ring, disabled until the first poll adopts it.
    static func make(configuration: RingConfiguration, wakeDescriptor: CInt) throws(Errno) -> IOUringState {
        try configuration.validate()
        return IOUringState(configuration: configuration, ring: try makeRing(configuration), wakeDescriptor: wakeDescriptor)
    }

    private init(configuration: RingConfiguration, ring: OpaquePointer?, wakeDescriptor: CInt) {
        self.configuration = configuration
        self.ring = ring
        self.wakeDescriptor = wakeDescriptor
        completions = .allocate(capacity: IOUringState.completionBatch)
        pendingCancels.reserveCapacity(64)
    }

    deinit {
        rp_ring_destroy(ring)
        completions.deallocate()
    }

    private static func makeRing(_ configuration: RingConfiguration) throws(Errno) -> OpaquePointer? {
        let mode: rp_ring_mode = switch configuration.taskRunMode {
        case .deferred: RP_MODE_DEFER
        case .cooperative: RP_MODE_COOP
        case .signal: RP_MODE_PLAIN
        }
        var ring: OpaquePointer?
        let result = rp_ring_create(configuration.submissionEntries, configuration.completionEntries, mode, &ring)
        guard result == 0 else { throw Errno(rawValue: -result) }
        return ring
    }

    // MARK: Registry operations (any thread)

    mutating func register(_ request: RegistrationRequest) throws(Errno) {
        guard !isClosed else { throw .badFileDescriptor }
        guard !request.interests.isEmpty else { throw .invalidArgument }
        guard request.descriptor >= 0 else { throw .badFileDescriptor }
        let identity = request.ownership == .borrowed ? try FileIdentity.of(request.descriptor) : nil
        switch try table.existing(for: request.descriptor, identity: identity) {
        case .none:
            break
        case .duplicate:
            // io_uring would happily arm a second poll on the same file: the rule is ours.
            throw .fileExists
        case .sameInode(let slot):
            // The same file, unless it is an anonymous-inode file (they all share one inode)
            // that took the closed number of the registered one.
            guard identity?.isAnonymous == true, try anonymousFiles.track(request.descriptor) else { throw .fileExists }
            retire(slot)
        case .stale(let slot):
            retire(slot)
        }
        if identity?.isAnonymous == true { _ = try anonymousFiles.track(request.descriptor) }
        _ = table.addDescriptor(request, identity: identity, arm: .pending)
        wake.request()
    }

    mutating func reregister(_ request: RegistrationRequest) throws(Errno) {
        guard !isClosed else { throw .badFileDescriptor }
        guard let slot = table.slot(forDescriptor: request.descriptor) else { throw .noSuchFileOrDirectory }
        guard !request.interests.isEmpty else { throw .invalidArgument }
        if let registered = table[slot].identity {
            // A borrowed number: it must still name the registered file, as epoll_ctl(MOD) checks.
            var sameFile = try FileIdentity.of(request.descriptor) == registered
            if sameFile && registered.isAnonymous { sameFile = try anonymousFiles.isTracked(request.descriptor) }
            guard sameFile else {
                retire(slot)
                throw .noSuchFileOrDirectory
            }
        }
        cancelKernelRequest(of: slot)
        table.renew(slot, with: request, arm: .pending)
        wake.request()
    }

    mutating func deregister(descriptor: CInt) throws(Errno) {
        guard !isClosed else { throw .badFileDescriptor }
        guard let slot = table.slot(forDescriptor: descriptor) else { throw .noSuchFileOrDirectory }
        if table[slot].identity?.isAnonymous == true { anonymousFiles.forget(descriptor) }
        retire(slot)
        wake.request()
    }

    /// Deregisters `descriptor` and, on the ring's own thread, closes it with IORING_OP_CLOSE in
    /// the same `io_uring_enter` that submits the cancel: one system call, like epoll's close(2).
    /// An armed poll holds a reference to the file, so without the cancel the peer would not see
    /// the close until the next poll. Returns false when the caller must close(2) it: another
    /// thread cannot touch the ring, so it wakes a sleeping poller, which cancels at once; a
    /// poller busy elsewhere cancels when it next polls. With `closingNumber` false the caller
    /// releases the file itself (through the placeholder) and only the cancel is sent.
    mutating func cancelAndClose(descriptor: CInt, closingNumber: Bool) -> Bool {
        if !isClosed, let slot = table.slot(forDescriptor: descriptor) { retire(slot) }
        guard !isClosed, ringOwner == rp_thread_serial(), !isPolling else {
            wake.request()
            return false
        }
        do throws(Errno) {
            try queueSubmissions()
            if closingNumber {
                try prepare { ring in rp_ring_prep_close(ring, descriptor, UserData.close.rawValue) }
            }
            try submitPending(flushTaskWork: true)
            runCancelledTaskWork()  // the cancelled poll lets go of the file only then
            return closingNumber
        } catch {
            // The ring refused; the cancel goes out with the next poll, the close now.
            return false
        }
    }

    /// Removes a registration and cancels its kernel request.
    private mutating func retire(_ slot: UInt32) {
        cancelKernelRequest(of: slot)
        table.remove(slot)
    }

    /// Queues an ASYNC_CANCEL for the slot's live request, by user_data. (POLL_REMOVE can fail
    /// with -EALREADY and leave the poll armed; a cancel always ends it.) Completions the old
    /// request still produces carry its generation, which the caller retires.
    private mutating func cancelKernelRequest(of slot: UInt32) {
        guard table[slot].arm == .armed else { return }
        pendingCancels.append(UserData(kind: .poll, slot: slot, generation: table[slot].generation))
        table[slot].arm = .silent
    }

    // MARK: Polling (the poll thread)

    mutating func prepareWait(deadline: Deadline, capacity: Int) throws(Errno) -> WaitPlan {
        defer { diagnostics.isPollerAsleep = wake.isAsleep }
        guard !isClosed else { throw .badFileDescriptor }
        try adoptRingOnCurrentThread()
        overflowedThisPoll = false
        try queueSubmissions()
        let hasQueued = table.readyCount > 0
        // Enough events are already waiting and nothing is to be submitted: no syscall at all.
        let skipsKernel = table.readyCount >= capacity && rp_ring_sq_pending(ring) == 0
        let timeout = hasQueued ? 0 : deadline.remainingNanoseconds()
        wake.willWait(blocking: timeout != 0 && !skipsKernel)
        isPolling = true
        return WaitPlan(ring: ring, timeout: timeout, skipsKernel: skipsKernel)
    }

    /// Reaps every completion, then fills `events` unless told to keep everything queued.
    mutating func finishWait(into events: inout Events, delivering: Bool) {
        wake.didWait()
        diagnostics.isPollerAsleep = false
        isPolling = false
        reapCompletions()
        runCancelledTaskWork()
        if let ring { diagnostics.droppedCompletions = Int(rp_ring_dropped(ring)) }
        if delivering {
            table.deliver(into: &events, confirmClosure: true)
        }
    }

    mutating func forgetRingOwner() {
        ringOwner = UInt64.max
    }

    mutating func close() {
        guard !isClosed else { return }
        isClosed = true
        rp_ring_destroy(ring)  // ends every request, so the kernel drops its file references
        ring = nil
        anonymousFiles.close()
    }

    /// Makes the calling thread the ring's owner. Requests belong to the thread that submitted
    /// them (they end when it exits) and a DEFER_TASKRUN ring accepts one submitter only, so when
    /// polling moves to another thread the ring is rebuilt there and every registration re-armed.
    private mutating func adoptRingOnCurrentThread() throws(Errno) {
        let current = rp_thread_serial()
        if ringOwner == current { return }
        if ringOwner != 0 {
            diagnostics.ringRebuilds += 1
            let fresh = try IOUringState.makeRing(configuration)
            rp_ring_destroy(ring)
            ring = fresh
            pendingCancels.removeAll(keepingCapacity: true)  // the old ring took its requests along
            cancelsAwaitingTaskWork = 0
            table.rescheduleArmed()
        }
        let result = rp_ring_enable(ring)
        guard result == 0 else { throw Errno(rawValue: -result) }
        ringOwner = current
        wakeNeedsArm = true
    }

    /// Turns pending changes into SQEs. A full SQ is submitted and refilled.
    private mutating func queueSubmissions() throws(Errno) {
        if wakeNeedsArm {
            let wakeDescriptor = self.wakeDescriptor
            try prepare { ring in
                rp_ring_prep_poll(ring, wakeDescriptor, PollBits.input, 1, UserData.wake.rawValue)
            }
            wakeNeedsArm = false
        }
        while let target = pendingCancels.last {
            let cancel = UserData(kind: .cancel, slot: target.slot, generation: target.generation)
            try prepare { ring in rp_ring_prep_cancel(ring, target.rawValue, cancel.rawValue) }
            pendingCancels.removeLast()
            cancelsAwaitingTaskWork += 1
        }
        while let slot = table.popScheduled() {
            let registration = table[slot]
            guard registration.kind == .descriptor, registration.arm == .pending else { continue }
            if !namesRegisteredFile(registration) {
                // A borrowed descriptor was closed (or its number reused) without deregister,
                // possibly before it was ever armed: arming would poll, and hold open, a file
                // nobody registered.
                table[slot].arm = .silent
                continue
            }
            let userData = UserData(kind: .poll, slot: slot, generation: registration.generation)
            let multishot: Int32 = registration.trigger == .edge || registration.waitsWithMultishot ? 1 : 0
            do {
                try prepare { ring in
                    rp_ring_prep_poll(ring, registration.descriptor, registration.requestedBits, multishot, userData.rawValue)
                }
            } catch {
                table.unpopScheduled(slot)
                throw error
            }
            table[slot].arm = .armed
            table[slot].sawMore = false
        }
    }

    /// Whether a borrowed registration's number still names the file it was made for.
    private mutating func namesRegisteredFile(_ registration: Registration) -> Bool {
        guard let registered = registration.identity else { return true }
        guard (try? FileIdentity.of(registration.descriptor)) == registered else { return false }
        return !registered.isAnonymous || ((try? anonymousFiles.isTracked(registration.descriptor)) ?? false)
    }

    /// Runs an SQE preparation; when the SQ is full, submits what it holds and tries again.
    private mutating func prepare(_ prep: (OpaquePointer?) -> Int32) throws(Errno) {
        if prep(ring) == 0 { return }
        try submitPending(flushTaskWork: false)
        let result = prep(ring)
        guard result == 0 else { throw Errno(rawValue: -result) }
    }

    /// Hands queued SQEs to the kernel now. On kernels that refuse submissions while completions
    /// are stuck in the overflow list (-EBUSY), reaps first and tries once more.
    private mutating func submitPending(flushTaskWork: Bool) throws(Errno) {
        var result = flushTaskWork ? rp_ring_submit_and_flush(ring) : rp_ring_submit(ring)
        if result == -EBUSY || result == -EAGAIN {
            reapCompletions()
            result = flushTaskWork ? rp_ring_submit_and_flush(ring) : rp_ring_submit(ring)
        }
        if result < 0 { throw Errno(rawValue: -result) }
    }

    /// Runs the task-work that submitted cancels left behind, reaping what it posts (so that the
    /// CQ has room for more). No system call when none is pending.
    private mutating func runCancelledTaskWork() {
        guard let ring else { return }
        while cancelsAwaitingTaskWork > 0 {
            let ran = rp_ring_run_task_work(ring, UInt32(min(cancelsAwaitingTaskWork, Int(UInt32.max))))
            guard ran > 0 else { break }
            cancelsAwaitingTaskWork -= min(cancelsAwaitingTaskWork, Int(ran))
            reapCompletions()
        }
        cancelsAwaitingTaskWork = 0
    }

    private mutating func reapCompletions() {
        guard let ring else { return }
        var overflowed: Int32 = 0
        while true {
            let count = Int(rp_ring_reap(ring, completions, UInt32(IOUringState.completionBatch), &overflowed))
            if overflowed != 0, !overflowedThisPoll {
                overflowedThisPoll = true
                diagnostics.completionOverflows += 1
            }
            for index in 0..<count {
                handle(completions[index])
            }
            if count < IOUringState.completionBatch { return }
        }
    }

    /// Turns one completion into readiness, or into bookkeeping.
    private mutating func handle(_ completion: rp_completion) {
        guard let userData = UserData(rawValue: completion.user_data) else { return }
        let hasMore = completion.flags & UInt32(RP_CQE_F_MORE) != 0
        switch userData.kind {
        case .wake:
            // Internal only: it woke the wait, which was its whole purpose.
            if !hasMore { wakeNeedsArm = true }
        case .close:
            break  // the descriptor is gone either way; close(2) would not report more
        case .cancel:
            // -EALREADY: the target was busy and survives; try again. -ENOENT: it already ended.
            if completion.res == -EALREADY {
                pendingCancels.append(UserData(kind: .poll, slot: userData.slot, generation: userData.generation))
            }
        case .poll:
            let slot = userData.slot
            // Completions of a deregistered or reregistered registration are dropped here.
            guard table.isCurrent(slot: slot, generation: userData.generation),
                  table[slot].kind == .descriptor, table[slot].arm == .armed else { return }
            if completion.res > 0 {
                // The kernel adds RDHUP to every poll (IO_POLL_UNMASK); keep what epoll would report.
                let bits = UInt32(bitPattern: completion.res) & table[slot].deliverableBits
                if bits != 0 { table.markReady(slot, bits: bits) }
                if hasMore {
                    table[slot].sawMore = true
                    table[slot].strikes = 0
                    if bits != 0 && table[slot].trigger != .edge { stopWaiting(slot) }
                } else {
                    pollEnded(slot, reported: bits != 0)
                }
            } else if completion.res == -ECANCELED || (completion.res == 0 && !hasMore) {
                // Not our cancel (ours change the generation): the arming thread exited, or the
                // file's wait queue went away. Arm again, but give up on a file that keeps
                // refusing.
                requestRearm(slot, suspicious: !table[slot].sawMore, limit: 3)
            } else if completion.res < 0 {
                // Arming failed (for example -EBADF: the descriptor was closed before the poll
                // reached the kernel). Report it, as epoll_ctl would have, and go quiet.
                table.markReady(slot, bits: PollBits.error)
                table[slot].arm = .silent
            }
        }
    }

    /// A poll completed without promising more completions; `reported` tells whether it carried
    /// readiness the registration asked for.
    private mutating func pollEnded(_ slot: UInt32, reported: Bool) {
        let trigger = table[slot].trigger
        if trigger != .edge && reported {
            table[slot].waitsWithMultishot = false
            table[slot].arm = trigger == .oneshot ? .silent : .awaitingDelivery
            return
        }
        // A level or oneshot poll that ended on unrequested readiness only (RDHUP) would end at
        // once again if armed the same way: it waits with a multishot poll instead.
        if trigger != .edge { table[slot].waitsWithMultishot = true }
        // A multishot poll ends on its own when the CQ was full as it posted (the kernel does
        // not queue intermediate completions on the overflow list): re-arm, or its next
        // readiness would never be reported. A poll that ends at its very first completion with
        // no overflow about is on a file without a wait queue (/dev/null); re-arming that would
        // spin, so after two such ends it stays silent.
        let suspicious = !table[slot].sawMore && !overflowedThisPoll
        requestRearm(slot, suspicious: suspicious, limit: 2)
    }

    /// A level or oneshot registration waiting with a multishot poll got readiness it asked for:
    /// that poll is cancelled (under the old generation, so nothing more of it is used) and the
    /// registration goes on as if its single-shot poll had completed.
    private mutating func stopWaiting(_ slot: UInt32) {
        pendingCancels.append(UserData(kind: .poll, slot: slot, generation: table[slot].generation))
        table.reissue(slot)
        table[slot].waitsWithMultishot = false
        table[slot].arm = table[slot].trigger == .oneshot ? .silent : .awaitingDelivery
    }

    private mutating func requestRearm(_ slot: UInt32, suspicious: Bool, limit: UInt8) {
        if suspicious {
            table[slot].strikes += 1
            if table[slot].strikes >= limit {
                table[slot].arm = .silent
                return
            }
        } else {
            table[slot].strikes = 0
        }
        diagnostics.rearms += 1
        table[slot].arm = .pending
        table.schedule(slot)
    }
}
