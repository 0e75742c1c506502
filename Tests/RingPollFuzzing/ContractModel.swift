@_spi(Tuning) import RingPoll

/// The model's record of one registration, keyed (like the registration rules) by the
/// descriptor number it was made for.
struct ModelRegistration {
    var token: Token
    let number: CInt
    /// Serial of the resource whose local end the number named when it was registered.
    let resource: Int
    let owned: Bool
    var interests: Interest
    var trigger: Trigger
    /// The operation that (re)armed it.
    var armedAt: Int
    /// The poll operation of its last event.
    var lastEventAt = -1
    /// The runner's re-arm epoch at its last event or arming (see `EpisodeRunner.rearmEpoch`).
    var epochAtLastEvent = 0
    /// The resource's last activity when its last event, and the one before, were delivered
    /// (the arming operation until then). One activity may explain two events: one delivered
    /// late for older readiness (carried over, or deferred task-work run a poll later) and the
    /// one the activity itself caused.
    var activityAtLastEvent: Int
    var activityBeforeLastEvent: Int
    /// Its file was closed or replaced behind RingPoll's back (borrowed only). The contract
    /// promises nothing about such a registration until it is retired, except that it must not
    /// disturb a later registration of the number.
    var orphaned = false
    var oneshotFired = false
    // Obligation bookkeeping: an event of each kind since the readiness was last consumed.
    var readableSinceDrain = false
    var writableSinceBlock = false
    var readClosedSinceArm = false
    var hangUpSinceArm = false
    var errorSinceArm = false

    init(token: Token, number: CInt, resource: Int, owned: Bool, interests: Interest, trigger: Trigger, at operation: Int, epoch: Int) {
        epochAtLastEvent = epoch
        activityAtLastEvent = operation
        activityBeforeLastEvent = operation
        self.token = token
        self.number = number
        self.resource = resource
        self.owned = owned
        self.interests = interests
        self.trigger = trigger
        armedAt = operation
    }

    mutating func rearm(token: Token, interests: Interest, trigger: Trigger, at operation: Int, epoch: Int) {
        epochAtLastEvent = epoch
        activityAtLastEvent = operation
        activityBeforeLastEvent = operation
        self.token = token
        self.interests = interests
        self.trigger = trigger
        armedAt = operation
        lastEventAt = -1
        oneshotFired = false
        readableSinceDrain = false
        writableSinceBlock = false
        readClosedSinceArm = false
        hangUpSinceArm = false
        errorSinceArm = false
    }

    /// The poll bits that may justify an event for this registration: its interests, and
    /// errors and hang-ups, which are always reported.
    var relevantBits: UInt32 {
        var bits: UInt32 = 0x008 | 0x010  // ERR, HUP
        if interests.isReadable { bits |= 0x001 | Oracle.readHangUp }
        if interests.isWritable { bits |= 0x004 }
        if interests.isPriority { bits |= 0x002 }
        return bits
    }
}

/// The pure-Swift model of the API contract: which registrations exist, which tokens may appear
/// in events, what each registry call must return, and what must be reported by when.
struct ContractModel {
    var registrations: [CInt: ModelRegistration] = [:]
    private var numberOfToken: [Int: CInt] = [:]
    /// Tokens that must never appear again (deregistered, replaced, refused).
    private(set) var retired: Set<Int> = []
    private(set) var issued: Set<Int> = []
    var wakePending: [Bool]
    let wakerTokens: [Token]

    init(wakers: Int) {
        wakePending = Array(repeating: false, count: wakers)
        wakerTokens = (0..<wakers).map { Token(-1 - $0) }
    }

    func wakerIndex(_ token: Token) -> Int? {
        token.rawValue < 0 ? -1 - token.rawValue : nil
    }

    mutating func issue(_ token: Token) {
        issued.insert(token.rawValue)
    }

    mutating func retire(_ token: Token) {
        retired.insert(token.rawValue)
        numberOfToken[token.rawValue] = nil
    }

    func registration(of token: Token) -> ModelRegistration? {
        numberOfToken[token.rawValue].flatMap { registrations[$0] }
    }

    mutating func store(_ registration: ModelRegistration) {
        if let old = registrations[registration.number], old.token != registration.token { retire(old.token) }
        registrations[registration.number] = registration
        numberOfToken[registration.token.rawValue] = registration.number
    }

    mutating func remove(number: CInt) {
        guard let old = registrations.removeValue(forKey: number) else { return }
        retire(old.token)
    }

    /// Reregister succeeded: the registration keeps its number and takes a new token.
    mutating func renew(number: CInt, token: Token, interests: Interest, trigger: Trigger, at operation: Int, epoch: Int) {
        guard var registration = registrations[number] else { return }
        retire(registration.token)
        registration.rearm(token: token, interests: interests, trigger: trigger, at: operation, epoch: epoch)
        registrations[number] = registration
        numberOfToken[token.rawValue] = number
    }

    mutating func update(_ registration: ModelRegistration) {
        registrations[registration.number] = registration
    }

    /// Registrations of the resource's local end (the ones its I/O concerns).
    func numbers(of resource: Resource) -> [CInt] {
        registrations.values.filter { $0.resource == resource.serial && !$0.orphaned }.map(\.number)
    }

    // MARK: What the contract prescribes

    /// `register(SourceFD(number))`, where `file` is the fuzzer resource whose local end the
    /// number names now (nil: the number is not open).
    func expectRegister(number: CInt, file: Resource?, interests: Interest) -> Outcome {
        if interests.isEmpty { return .failed(.invalidArgument) }
        guard file != nil else { return .failed(.badFileDescriptor) }
        if let existing = registrations[number], !existing.orphaned { return .failed(.fileExists) }
        // An orphan (closed and reused number) must not make the new registration fail.
        return .ok
    }

    func expectReregister(number: CInt, file: Resource?, interests: Interest) -> Outcome {
        guard let existing = registrations[number] else { return .failed(.noSuchFileOrDirectory) }
        if interests.isEmpty { return .failed(.invalidArgument) }
        if !existing.orphaned { return .ok }
        // The registered file is gone: the number is closed, or names another file now.
        return file == nil ? .failed(.badFileDescriptor) : .failed(.noSuchFileOrDirectory)
    }

    func expectDeregister(number: CInt) -> Outcome {
        registrations[number] == nil ? .failed(.noSuchFileOrDirectory) : .ok
    }
}
