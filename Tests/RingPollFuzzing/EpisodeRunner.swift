import Glibc
@_spi(Tuning) import RingPoll

/// What one episode did and found.
public struct EpisodeResult: Sendable {
    public var divergences: [Divergence] = []
    public var operations = 0
    public var events = 0
    public var polls = 0
    /// Obligations met only after the settle's extra wait (late, not lost).
    public var lateObligations = 0
    /// Obligations checked at settle points.
    public var obligationsChecked = 0
    /// The kernel showed closure the model had no fact for (a gap in the model, not a bug).
    public var modelGaps: [String] = []
    /// Polls during which the CQ overflowed, re-arms of ended polls, ring rebuilds and dropped
    /// completions (`Poll.diagnostics` at the end of the episode).
    public var overflowingPolls = 0
    public var rearms = 0
    public var ringRebuilds = 0
    public var droppedCompletions = 0
}

/// Runs one program against one backend, with the contract model alongside, and reports
/// every step where the backend leaves the model's envelope.
public final class EpisodeRunner {
    public let target: FuzzTarget
    public let seed: UInt64
    public let shape: EpisodeShape
    public let ring: RingSizes

    private var world: World!
    private var poll: Poll!
    private var wakers: [Waker] = []
    private var model: ContractModel
    private var pollEvents: [Int: Events] = [:]
    private var settleEvents = Events(capacity: 64)
    private var result = EpisodeResult()
    private var operation = 0
    /// Moves on whenever the backend re-armed polls on its own (after a CQ overflow, or a ring
    /// rebuilt on another thread). A re-arm reports readiness that still holds, so an edge
    /// registration may then repeat an event without anything new having happened.
    private var rearmEpoch = 0
    private var lastRearms = 0
    private var lastRebuilds = 0
    private var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 8)

    public init(target: FuzzTarget, seed: UInt64, shape: EpisodeShape) {
        self.target = target
        self.seed = seed
        self.shape = shape
        ring = RingSizes(seed: seed)
        model = ContractModel(wakers: shape.wakers)
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5A)
    }

    deinit {
        buffer.deallocate()
    }

    /// Runs the operations of `program` whose indices are in `keep` (all when nil), in order.
    public func run(_ program: [Operation], keep: Set<Int>? = nil) -> EpisodeResult {
        do {
            world = try World(slots: shape.slots)
            poll = try Poll(backend: target.backend, ringConfiguration: RingConfiguration(
                submissionEntries: ring.submissionEntries, completionEntries: ring.completionEntries, taskRunMode: target.mode))
            wakers = try (0..<shape.wakers).map { try Waker(registry: poll.registry, token: model.wakerTokens[$0]) }
        } catch {
            diverge(.setupFailed, "Poll, wakers or listener: \(error)")
            return result
        }
        for capacity in shape.capacities { pollEvents[capacity] = Events(capacity: capacity) }
        for (index, step) in program.enumerated() where keep?.contains(index) ?? true {
            operation = index
            execute(step)
            result.operations += 1
        }
        let diagnostics = poll.diagnostics
        result.overflowingPolls = diagnostics.completionOverflows
        result.rearms = diagnostics.rearms
        result.ringRebuilds = diagnostics.ringRebuilds
        result.droppedCompletions = diagnostics.droppedCompletions
        wakers = []
        poll = nil
        world = nil
        return result
    }

    private func diverge(_ kind: DivergenceKind, _ detail: String) {
        result.divergences.append(Divergence(operation: operation, kind: kind, detail: detail))
    }

    // MARK: Operations

    private func execute(_ step: Operation) {
        switch step {
        case let .open(slot, kind):
            closeSlot(slot)
            do {
                world.slots[slot] = try world.make(kind, at: operation)
            } catch {
                diverge(.setupFailed, "making a \(kind): \(error)")
            }
        case let .register(slot, interests, trigger):
            register(slot, interests, trigger)
        case let .reregister(slot, interests, trigger):
            reregister(slot, interests, trigger)
        case let .deregister(slot):
            deregister(slot)
        case let .closeLocal(slot):
            closeLocal(slot)
        case let .closePeer(slot, reset):
            closePeer(slot, reset: reset)
        case let .dup2Reuse(slot, kind):
            dup2Reuse(slot, kind)
        case let .writeIn(slot, bytes):
            guard let resource = world.slots[slot], resource.kind.hasInbound else { return }
            let endpoint = resource.kind == .eventfd ? resource.local : resource.peer
            guard endpoint.isOpen else { return }
            touch(resource)
            _ = write(endpoint, bytes: resource.kind == .eventfd ? 8 : bytes)
        case let .writeOut(slot, bytes):
            guard let resource = world.slots[slot], resource.kind.hasOutbound, resource.local.isOpen else { return }
            touch(resource)
            if write(resource.local, bytes: bytes) == .wouldBlock {
                for number in model.numbers(of: resource) { model.registrations[number]?.writableSinceBlock = false }
            }
        case let .readLocal(slot, bytes):
            guard let resource = world.slots[slot], resource.kind != .pipeWrite, resource.local.isOpen else { return }
            touch(resource)
            if read(resource.local, bytes: bytes) == .wouldBlock {
                for number in model.numbers(of: resource) { model.registrations[number]?.readableSinceDrain = false }
            }
        case let .readPeer(slot, bytes):
            guard let resource = world.slots[slot], resource.kind.hasOutbound, resource.peer.isOpen else { return }
            touch(resource)
            _ = read(resource.peer, bytes: bytes)
        case let .shutdown(slot, peer, how):
            guard let resource = world.slots[slot], resource.kind.isSocket else { return }
            let endpoint = peer ? resource.peer : resource.local
            guard endpoint.isOpen else { return }
            touch(resource)
            guard endpoint.shutdown(how) == nil else { return }
            if how != .write { if peer { resource.facts.peerShutRead = true } else { resource.facts.localShutRead = true } }
            if how != .read { if peer { resource.facts.peerShutWrite = true } else { resource.facts.localShutWrite = true } }
        case .burst:
            for slot in world.slots.indices { execute(.writeIn(slot: slot, bytes: 1)) }
        case .drainAll:
            for slot in world.slots.indices { execute(.readLocal(slot: slot, bytes: 0)) }
        case let .wake(index):
            do throws(Errno) {
                try wakers[index].wake()
                model.wakePending[index] = true
            } catch {
                diverge(.callResult, "wake() threw \(error)")
            }
        case let .poll(capacity, timeout, otherThread):
            pollOnce(capacity: capacity, timeout: .microseconds(timeout), otherThread: otherThread)
        case .settle:
            settle()
        }
    }

    private func touch(_ resource: Resource) {
        resource.lastActivity = operation
    }

    /// Writes `bytes` (0: until would-block, at most 16 MiB); returns the last result.
    private func write(_ endpoint: Endpoint, bytes: Int) -> IOResult {
        var left = bytes == 0 ? 16 << 20 : bytes
        var last = IOResult.bytes(0)
        while left > 0 {
            last = endpoint.write(UnsafeRawBufferPointer(rebasing: buffer[..<min(left, buffer.count)]))
            guard case .bytes(let count) = last, count > 0 else { return last }
            left -= count
            if bytes != 0 && count < min(left + count, buffer.count) { return last }  // short write: full
        }
        return last
    }

    /// Reads `bytes` (0: until would-block or end of stream); returns the last result.
    private func read(_ endpoint: Endpoint, bytes: Int) -> IOResult {
        var left = bytes == 0 ? Int.max : bytes
        var last = IOResult.bytes(0)
        var rounds = 0
        while left > 0 && rounds < 4_096 {
            rounds += 1
            last = endpoint.read(UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(left, buffer.count)]))
            guard case .bytes(let count) = last else { return last }
            left -= count
        }
        return last
    }

    // MARK: Registry calls

    /// The number a borrowed registry call on `slot` names and the resource whose local end it
    /// is now (nil: not open); nil altogether when the call is skipped (an owned kind, or a stale
    /// number now used by something that is not the fuzzer's borrowed local end).
    private func borrowedTarget(_ slot: Int) -> (number: CInt, file: Resource?)? {
        guard let resource = world.slots[slot], !resource.kind.isOwned else { return nil }
        if resource.local.isOpen { return (resource.localNumber, resource) }
        let number = resource.localNumber
        guard number >= 0 else { return nil }
        if !Oracle.isOpen(number) { return (number, nil) }
        if let owner = world.localOwner(of: number), !owner.kind.isOwned { return (number, owner) }
        return nil
    }

    private func check(_ call: String, expected: Set<Outcome>, actual: Outcome) {
        if !expected.contains(actual) {
            let wanted = expected.map(\.description).sorted().joined(separator: " or ")
            diverge(.callResult, "\(call) returned \(actual), the contract says \(wanted)")
        }
    }

    private func register(_ slot: Int, _ interests: Interest, _ trigger: Trigger) {
        let token = Token(operation + 1)
        if let resource = world.slots[slot], resource.kind.isOwned {
            guard resource.local.isOpen else { return }
            model.issue(token)
            let expected: Outcome = resource.ownedRegistered ? .failed(.fileExists) : interests.isEmpty ? .failed(.invalidArgument) : .ok
            let actual = Outcome.of { () throws(Errno) in try registerOwned(resource.local, token, interests, trigger) }
            check("register(\(resource.kind) #\(resource.localNumber))", expected: [expected], actual: actual)
            if actual == .ok {
                resource.ownedRegistered = true
                model.store(ModelRegistration(token: token, number: resource.localNumber, resource: resource.serial, owned: true,
                                              interests: interests, trigger: trigger, at: operation, epoch: rearmEpoch))
            } else {
                model.retire(token)
            }
            return
        }
        guard let (number, file) = borrowedTarget(slot) else { return }
        model.issue(token)
        let expected = model.expectRegister(number: number, file: file, interests: interests)
        let actual = Outcome.of { () throws(Errno) in
            try poll.registry.register(SourceFD(number), token: token, interests: interests, trigger: trigger)
        }
        check("register(SourceFD(\(number)) \(file.map { "\($0.kind)" } ?? "closed"))", expected: [expected], actual: actual)
        if actual == .ok, let file {
            model.store(ModelRegistration(token: token, number: number, resource: file.serial, owned: false,
                                          interests: interests, trigger: trigger, at: operation, epoch: rearmEpoch))
        } else {
            model.retire(token)
        }
    }

    private func reregister(_ slot: Int, _ interests: Interest, _ trigger: Trigger) {
        let token = Token(operation + 1)
        if let resource = world.slots[slot], resource.kind.isOwned {
            guard resource.local.isOpen else { return }
            model.issue(token)
            let expected: Outcome = !resource.ownedRegistered ? .failed(.noSuchFileOrDirectory) : interests.isEmpty ? .failed(.invalidArgument) : .ok
            let actual = Outcome.of { () throws(Errno) in try reregisterOwned(resource.local, token, interests, trigger) }
            check("reregister(\(resource.kind) #\(resource.localNumber))", expected: [expected], actual: actual)
            if actual == .ok {
                model.renew(number: resource.localNumber, token: token, interests: interests, trigger: trigger, at: operation, epoch: rearmEpoch)
            } else {
                model.retire(token)
            }
            return
        }
        guard let (number, file) = borrowedTarget(slot) else { return }
        model.issue(token)
        let expected = model.expectReregister(number: number, file: file, interests: interests)
        let wasOrphan = model.registrations[number]?.orphaned ?? false
        let actual = Outcome.of { () throws(Errno) in
            try poll.registry.reregister(SourceFD(number), token: token, interests: interests, trigger: trigger)
        }
        check("reregister(SourceFD(\(number)) \(file.map { "\($0.kind)" } ?? "closed"))", expected: [expected], actual: actual)
        switch actual {
        case .ok where wasOrphan:
            // Accepted for a file that was never registered: from now on it stands for that file.
            model.remove(number: number)
            if let file {
                model.store(ModelRegistration(token: token, number: number, resource: file.serial, owned: false,
                                              interests: interests, trigger: trigger, at: operation, epoch: rearmEpoch))
            }
        case .ok:
            model.renew(number: number, token: token, interests: interests, trigger: trigger, at: operation, epoch: rearmEpoch)
        case .failed(.noSuchFileOrDirectory):
            model.remove(number: number)  // the stale registration is dropped
            model.retire(token)
        default:
            model.retire(token)
        }
    }

    private func deregister(_ slot: Int) {
        if let resource = world.slots[slot], resource.kind.isOwned {
            guard resource.local.isOpen else { return }
            let expected: Outcome = resource.ownedRegistered ? .ok : .failed(.noSuchFileOrDirectory)
            let actual = Outcome.of { () throws(Errno) in try deregisterOwned(resource.local) }
            check("deregister(\(resource.kind) #\(resource.localNumber))", expected: [expected], actual: actual)
            if actual == .ok {
                resource.ownedRegistered = false
                model.remove(number: resource.localNumber)
            }
            return
        }
        guard let (number, file) = borrowedTarget(slot) else { return }
        let expected = model.expectDeregister(number: number)
        let actual = Outcome.of { () throws(Errno) in try poll.registry.deregister(SourceFD(number)) }
        check("deregister(SourceFD(\(number)) \(file.map { "\($0.kind)" } ?? "closed"))", expected: [expected], actual: actual)
        if actual == .ok { model.remove(number: number) }
    }

    private func registerOwned(_ endpoint: Endpoint, _ token: Token, _ interests: Interest, _ trigger: Trigger) throws(Errno) {
        switch endpoint {
        case .unix(let stream): try poll.registry.register(stream, token: token, interests: interests, trigger: trigger)
        case .tcp(let stream): try poll.registry.register(stream, token: token, interests: interests, trigger: trigger)
        case .pipeIn(let receiver): try poll.registry.register(receiver, token: token, interests: interests, trigger: trigger)
        default: throw .badFileDescriptor
        }
    }

    private func reregisterOwned(_ endpoint: Endpoint, _ token: Token, _ interests: Interest, _ trigger: Trigger) throws(Errno) {
        switch endpoint {
        case .unix(let stream): try poll.registry.reregister(stream, token: token, interests: interests, trigger: trigger)
        case .tcp(let stream): try poll.registry.reregister(stream, token: token, interests: interests, trigger: trigger)
        case .pipeIn(let receiver): try poll.registry.reregister(receiver, token: token, interests: interests, trigger: trigger)
        default: throw .badFileDescriptor
        }
    }

    private func deregisterOwned(_ endpoint: Endpoint) throws(Errno) {
        switch endpoint {
        case .unix(let stream): try poll.registry.deregister(stream)
        case .tcp(let stream): try poll.registry.deregister(stream)
        case .pipeIn(let receiver): try poll.registry.deregister(receiver)
        default: throw .badFileDescriptor
        }
    }

    // MARK: Closing and reuse

    private func closeLocal(_ slot: Int) {
        guard let resource = world.slots[slot], resource.local.isOpen else { return }
        touch(resource)
        if resource.kind.isOwned {
            // close() deregisters: the registration is gone once it returns.
            resource.local.close(reset: false)
            if resource.ownedRegistered { model.remove(number: resource.localNumber) }
            resource.ownedRegistered = false
        } else {
            resource.local.close(reset: false)
            orphan(resource)
        }
    }

    /// The resource's local file is gone behind RingPoll's back: its registration is an orphan.
    private func orphan(_ resource: Resource) {
        for number in model.numbers(of: resource) where !(model.registrations[number]?.owned ?? true) {
            model.registrations[number]?.orphaned = true
        }
    }

    private func closePeer(_ slot: Int, reset: Bool) {
        guard let resource = world.slots[slot], resource.peer.isOpen else { return }
        touch(resource)
        resource.peer.close(reset: reset && resource.kind.isTCP)
        resource.facts.peerClosed = true
        // A TCP close with unread data, or a later write to it, resets the connection.
        if resource.kind.isTCP { resource.facts.reset = true }
    }

    private func closeSlot(_ slot: Int) {
        guard world.slots[slot] != nil else { return }
        closeLocal(slot)
        closePeer(slot, reset: false)
        world.release(slot)
    }

    private func dup2Reuse(_ slot: Int, _ kind: ResourceKind) {
        guard let old = world.slots[slot], !old.kind.isOwned, old.local.isOpen, !kind.isOwned else { return }
        let fresh: Resource
        do {
            fresh = try world.make(kind, at: operation)
        } catch {
            diverge(.setupFailed, "making a \(kind) for dup2: \(error)")
            return
        }
        touch(old)
        let number = old.localNumber
        guard let temporary = fresh.local.number, dup2(temporary, number) == number else {
            diverge(.setupFailed, "dup2 onto \(number): \(Errno(rawValue: errno))")
            fresh.local.close(reset: false)
            fresh.peer.close(reset: false)
            return
        }
        Glibc.close(temporary)
        fresh.local = .raw(number, eventFD: kind == .eventfd)
        fresh.localNumber = number
        old.local = .closed  // its file was closed by dup2
        orphan(old)
        old.peer.close(reset: false)
        world.slots[slot] = fresh
    }

    // MARK: Polling and the event rules

    private func pollOnce(capacity: Int, timeout: Duration, otherThread: Bool) {
        guard var events = pollEvents[capacity] else { return }
        let failure: Errno?
        if otherThread {
            let box = PollBox(poll: poll, events: events)
            runOnNewThread { box.failure = box.pollRetrying(timeout) }
            events = box.events
            failure = box.failure
        } else {
            failure = PollBox.pollRetrying(poll, &events, timeout)
        }
        pollEvents[capacity] = events
        result.polls += 1
        if let failure {
            diverge(.pollFailed, "poll(capacity \(capacity)) threw \(failure)")
            return
        }
        if events.count > capacity { diverge(.pollFailed, "\(events.count) events in Events of capacity \(capacity)") }
        noteRebuilds()
        judge(events)
        // After judging: re-arms made while reaping this poll report in later polls.
        noteRearms()
    }

    /// A ring rebuilt during a poll re-armed everything within that very poll: noted before its
    /// events are judged.
    private func noteRebuilds() {
        let rebuilds = poll.diagnostics.ringRebuilds
        if rebuilds != lastRebuilds {
            lastRebuilds = rebuilds
            rearmEpoch += 1
        }
    }

    /// An ended poll found while reaping is re-armed by the next poll: noted after judging.
    private func noteRearms() {
        let rearms = poll.diagnostics.rearms
        if rearms != lastRearms {
            lastRearms = rearms
            rearmEpoch += 1
        }
    }

    /// Applies every must-not rule to the events of one poll and records them in the model.
    @discardableResult
    private func judge(_ events: Events) -> [Event] {
        var seen = Set<Int>()
        var judged: [Event] = []
        for event in events {
            result.events += 1
            judged.append(event)
            let raw = event.token.rawValue
            guard seen.insert(raw).inserted else {
                diverge(.twoEventsInOnePoll, "\(event)")
                continue
            }
            if let waker = model.wakerIndex(event.token), waker < model.wakePending.count {
                if !model.wakePending[waker] { diverge(.wakeWithoutWake, "\(event)") }
                model.wakePending[waker] = false
                continue
            }
            guard model.issued.contains(raw) else {
                diverge(.eventForUnknownToken, "\(event)")
                continue
            }
            guard !model.retired.contains(raw), var registration = model.registration(of: event.token) else {
                diverge(.eventAfterRetirement, "\(event)")
                continue
            }
            if event.isReadable && !(registration.interests.isReadable || registration.interests.isPriority) {
                diverge(.outsideInterest, "\(event) for interest \(registration.interests)")
            }
            if event.isWritable && !registration.interests.isWritable {
                diverge(.outsideInterest, "\(event) for interest \(registration.interests)")
            }
            if registration.trigger == .oneshot && registration.oneshotFired {
                diverge(.oneshotRepeated, "\(event)")
            }
            if !registration.orphaned { judgeCause(event, registration) }
            if let resource = world.localOwner(of: registration.number), resource.serial == registration.resource {
                registration.activityBeforeLastEvent = registration.activityAtLastEvent
                registration.activityAtLastEvent = resource.lastActivity
            }
            registration.lastEventAt = operation
            registration.epochAtLastEvent = rearmEpoch
            if event.isReadable { registration.readableSinceDrain = true }
            if event.isWritable { registration.writableSinceBlock = true }
            if event.isReadClosed { registration.readClosedSinceArm = true }
            if event.isReadClosed && event.isWriteClosed { registration.hangUpSinceArm = true }
            if event.isError { registration.errorSinceArm = true }
            if registration.trigger == .oneshot { registration.oneshotFired = true }
            model.update(registration)
        }
        return judged
    }

    /// An event needs a cause: activity on its resource that has not yet explained two events
    /// (see `ModelRegistration.activityAtLastEvent`), or since its arming. Readiness that merely holds is a cause only where the contract lets it be
    /// reported again: level triggers, a first report, a re-arm by the backend (overflow, ring
    /// rebuild), and TCP, whose acknowledgements wake sockets later, on their own. Closure flags
    /// need the kernel (or the model's facts) to agree that the stream really is closed.
    private func judgeCause(_ event: Event, _ registration: ModelRegistration) {
        guard let resource = world.localOwner(of: registration.number), resource.serial == registration.resource else { return }
        let now = Oracle.readiness(registration.number) ?? 0
        let since = max(registration.activityBeforeLastEvent, registration.armedAt)
        let activity = resource.lastActivity > since
        let holdsMayRepeat = registration.trigger != .edge || registration.lastEventAt < registration.armedAt
            || registration.epochAtLastEvent != rearmEpoch || resource.kind.isTCP
        if !activity && !(holdsMayRepeat && now & registration.relevantBits != 0) {
            diverge(.unjustifiedEvent, "\(event) on \(resource.kind) #\(registration.number): nothing happened since op #\(since), no re-arm, and poll(2) shows \(bits(now))")
        }
        let closedNow = now & (0x010 | Oracle.readHangUp) != 0
        let brokenNow = now & (0x010 | 0x008) != 0
        if event.isReadClosed && !closedNow && !resource.facts.readClosed {
            diverge(.falseReadClosed, "\(event) on \(resource.kind) #\(registration.number): poll(2) shows \(bits(now)), facts \(resource.facts)")
        }
        if event.isWriteClosed && !brokenNow && !resource.facts.writeClosed {
            diverge(.falseWriteClosed, "\(event) on \(resource.kind) #\(registration.number): poll(2) shows \(bits(now)), facts \(resource.facts)")
        }
        if closedNow && !resource.facts.readClosed && resource.kind != .pipeWrite {
            result.modelGaps.append("\(resource.kind): poll(2) shows \(bits(now)) with facts \(resource.facts)")
        }
    }

    // MARK: Settling and the must-report rules

    private struct Snapshot {
        var number: CInt
        var token: Token
        var bits: UInt32
    }

    private func settle() {
        var snapshots: [Snapshot] = []
        for registration in model.registrations.values where !registration.orphaned {
            guard let resource = world.localOwner(of: registration.number), resource.serial == registration.resource,
                  let bits = Oracle.readiness(registration.number) else { continue }
            snapshots.append(Snapshot(number: registration.number, token: registration.token, bits: bits))
        }
        let wakesOwed = model.wakePending
        var tokensSeen = Set<Int>()
        var readableSeen = Set<Int>()
        var writableSeen = Set<Int>()
        func absorb(_ events: [Event]) -> Bool {
            var new = false
            for event in events {
                if tokensSeen.insert(event.token.rawValue).inserted { new = true }
                if event.isReadable { readableSeen.insert(event.token.rawValue) }
                if event.isWritable { writableSeen.insert(event.token.rawValue) }
            }
            return new
        }
        var quiet = 0
        var rounds = 0
        while quiet < 3 && rounds < 60 {
            rounds += 1
            if let failure = PollBox.pollRetrying(poll, &settleEvents, rounds == 1 ? .zero : .milliseconds(2)) {
                diverge(.pollFailed, "settle poll threw \(failure)")
                return
            }
            result.polls += 1
            noteRebuilds()
            quiet = absorb(judge(settleEvents)) ? 0 : quiet + 1
            noteRearms()
        }

        func owed() -> [String] {
            var missing: [String] = []
            for snapshot in snapshots {
                guard let registration = model.registrations[snapshot.number], registration.token == snapshot.token,
                      !registration.orphaned, !(registration.trigger == .oneshot && registration.oneshotFired) else { continue }
                let m = snapshot.bits
                let name = "\(registration.token) (#\(snapshot.number), \(registration.interests), \(registration.trigger), poll(2) \(bits(m)))"
                if registration.interests.isReadable && m & 0x001 != 0 && !registration.readableSinceDrain { missing.append("readable of \(name)") }
                if registration.interests.isWritable && m & 0x004 != 0 && !registration.writableSinceBlock { missing.append("writable of \(name)") }
                if registration.interests.isReadable && m & (Oracle.readHangUp | 0x010) != 0 && !registration.readClosedSinceArm { missing.append("read-closed of \(name)") }
                if m & 0x010 != 0 && !registration.hangUpSinceArm { missing.append("hang-up of \(name)") }
                if m & 0x008 != 0 && !registration.errorSinceArm { missing.append("error of \(name)") }
                if registration.trigger == .level {
                    if registration.interests.isReadable && m & 0x001 != 0 && !readableSeen.contains(snapshot.token.rawValue) {
                        missing.append("level readable of \(name)")
                    }
                    if registration.interests.isWritable && m & 0x004 != 0 && !writableSeen.contains(snapshot.token.rawValue) {
                        missing.append("level writable of \(name)")
                    }
                }
            }
            for (index, wasOwed) in wakesOwed.enumerated() where wasOwed && model.wakePending[index] {
                missing.append("wake of waker \(index)")
            }
            return missing
        }
        result.obligationsChecked += snapshots.count + wakesOwed.filter { $0 }.count
        var missing = owed()
        guard !missing.isEmpty else { return }
        // Not there yet: wait up to a second more before calling it lost.
        for _ in 0..<50 where !missing.isEmpty {
            guard PollBox.pollRetrying(poll, &settleEvents, .milliseconds(20)) == nil else { break }
            noteRebuilds()
            _ = absorb(judge(settleEvents))
            noteRearms()
            missing = owed()
        }
        if missing.isEmpty {
            result.lateObligations += 1
        } else {
            for item in missing {
                diverge(item.hasPrefix("wake") ? .lostWake : .lostEvent, item)
            }
        }
    }

    private func bits(_ mask: UInt32) -> String {
        let names: [(UInt32, String)] = [(0x001, "IN"), (0x002, "PRI"), (0x004, "OUT"), (0x008, "ERR"), (0x010, "HUP"), (Oracle.readHangUp, "RDHUP")]
        let present = names.filter { mask & $0.0 != 0 }.map(\.1)
        return present.isEmpty ? "nothing" : present.joined(separator: "|")
    }
}

/// Carries the poll to a fresh thread and the result back (the thread is joined before use).
private final class PollBox: @unchecked Sendable {
    let poll: Poll
    var events: Events
    var failure: Errno?

    init(poll: Poll, events: Events) {
        self.poll = poll
        self.events = events
    }

    func pollRetrying(_ timeout: Duration) -> Errno? {
        PollBox.pollRetrying(poll, &events, timeout)
    }

    /// `poll`, retrying `Errno.interrupted` (io_uring ring teardown sends signal-notified
    /// task-work, see DESIGN.md); any other error is returned.
    static func pollRetrying(_ poll: Poll, _ events: inout Events, _ timeout: Duration) -> Errno? {
        for _ in 0..<100 {
            let failure = attempt(poll, &events, timeout)
            if failure != .interrupted { return failure }
        }
        return .interrupted
    }

    private static func attempt(_ poll: Poll, _ events: inout Events, _ timeout: Duration) -> Errno? {
        do throws(Errno) {
            try poll.poll(&events, timeout: timeout)
            return nil
        } catch {
            return error
        }
    }
}

/// Runs `body` on a new thread and waits for it to end.
func runOnNewThread(_ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    precondition(created == 0, "pthread_create: \(created)")
    pthread_join(thread, nil)
}
