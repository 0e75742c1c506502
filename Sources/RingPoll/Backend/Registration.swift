import SystemPackage

/// One slot of the registration table: a registered descriptor, a waker, or nothing.
struct Registration {
    enum Kind: UInt8 {
        case free
        case descriptor
        case waker
    }

    var kind = Kind.free
    /// Bumped on every register, reregister and deregister of this slot. Kernel completions and
    /// events carry the generation they were armed with; any other generation is stale.
    var generation: UInt32 = 0
    var token = Token(0)
    var descriptor: CInt = -1
    var interests: Interest = []
    var trigger = Trigger.edge
    /// Set for borrowed descriptors only (see `FileIdentity`).
    var identity: FileIdentity?

    /// Readiness seen since the last delivery, merged into one event.
    var pendingBits: UInt32 = 0
    /// Whether the slot is on the ready list (at most once).
    var isQueued = false
    /// Next slot on the ready list.
    var nextReady = RegistrationTable.noSlot

    /// The kernel request behind the registration (io_uring only; epoll leaves `.kernelManaged`).
    var arm = ArmState.kernelManaged
    /// Whether the slot is on the list of slots whose kernel request must be submitted.
    var isScheduled = false
    /// A completion with `IORING_CQE_F_MORE` arrived since the last arm: the file is pollable.
    var sawMore = false
    /// Consecutive ends of a poll that did not look like an overflow or a cancel by us.
    var strikes: UInt8 = 0

    /// A level or oneshot registration whose single-shot poll ended on readiness it did not ask
    /// for (io_uring reports RDHUP whatever the mask, and it holds for good once the peer has
    /// shut down): another single-shot poll would end at once again, so it waits with a
    /// multishot poll until readiness it asked for arrives.
    var waitsWithMultishot = false

    /// The poll mask to ask the kernel for.
    var requestedBits: UInt32 { PollBits.requested(by: interests) }

    /// The completion bits an event may carry: the interests', errors and hang-ups, as epoll
    /// reports them.
    var deliverableBits: UInt32 { requestedBits | PollBits.closure | PollBits.invalid }
}

/// Where the io_uring request of a registration stands.
///
/// ```
///  register / reregister ──▶ pending ──submit──▶ armed ──multishot end (overflow, thread exit)──┐
///                              ▲  ▲                │ single-shot completion                    │
///                              │  └────────────────┼─────────────────────────────────────────── ┘
///                              │     level:        ▼            oneshot / not pollable / error
///                              └──delivered── awaitingDelivery      armed ──▶ silent
/// ```
enum ArmState: UInt8 {
    /// epoll: the kernel keeps the registration armed by itself.
    case kernelManaged
    /// A POLL_ADD for the current generation must be submitted (the slot is scheduled).
    case pending
    /// A POLL_ADD for the current generation is live in the kernel.
    case armed
    /// Level trigger: the single-shot poll completed. Its event is queued; once delivered, the
    /// poll is armed again, and arming reports readiness that still holds.
    case awaitingDelivery
    /// Nothing armed and nothing to arm until `reregister`: a oneshot fired, the file cannot be
    /// polled, arming failed, or the borrowed descriptor was closed.
    case silent
}
