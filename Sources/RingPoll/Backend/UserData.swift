/// The 64 bits the kernel hands back with readiness: an io_uring SQE's `user_data` (returned in
/// its completions) and an epoll event's `data.u64` use the same encoding.
///
/// ```
///  63  62 61                          32 31                           0
/// ┌──────┬──────────────────────────────┬──────────────────────────────┐
/// │ kind │ generation (30 bits)         │ slot (32 bits)               │
/// └──────┴──────────────────────────────┴──────────────────────────────┘
/// ```
/// Kind 3 (close) always has generation and slot 0, so no request ever carries `UINT64_MAX`,
/// which old kernels reserve for internal timeouts. A cancel names its target's slot and generation, so a cancel that has
/// to be retried knows what it was for.
struct UserData: Equatable {
    enum Kind: UInt64 {
        /// A POLL_ADD for a registration.
        case poll = 0
        /// An ASYNC_CANCEL of the POLL_ADD with the same slot and generation.
        case cancel = 1
        /// The internal wake eventfd.
        case wake = 2
        /// An IORING_OP_CLOSE of a descriptor closed by its owner (generation and slot 0).
        case close = 3
    }

    var kind: Kind
    var generation: UInt32
    var slot: UInt32

    init(kind: Kind, slot: UInt32, generation: UInt32) {
        self.kind = kind
        self.slot = slot
        self.generation = generation & RegistrationTable.generationMask
    }

    /// `nil` for a value RingPoll never issues.
    init?(rawValue: UInt64) {
        guard let kind = Kind(rawValue: rawValue >> 62) else { return nil }
        self.kind = kind
        generation = UInt32(truncatingIfNeeded: rawValue >> 32) & RegistrationTable.generationMask
        slot = UInt32(truncatingIfNeeded: rawValue)
    }

    var rawValue: UInt64 {
        kind.rawValue << 62 | UInt64(generation) << 32 | UInt64(slot)
    }

    static let wake = UserData(kind: .wake, slot: 0, generation: 0)
    static let close = UserData(kind: .close, slot: 0, generation: 0)
}
