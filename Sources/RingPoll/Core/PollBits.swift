import CLiburing

/// The poll(2)/epoll readiness bits RingPoll reads. Both kernels use the same values, so an
/// io_uring completion mask and an epoll event mask are interpreted by the same code.
enum PollBits {
    static let input = UInt32(RP_POLLIN)
    static let priority = UInt32(RP_POLLPRI)
    static let output = UInt32(RP_POLLOUT)
    static let error = UInt32(RP_POLLERR)
    static let hangUp = UInt32(RP_POLLHUP)
    static let invalid = UInt32(RP_POLLNVAL)
    static let readHangUp = UInt32(RP_POLLRDHUP)

    /// Every bit an `Event` keeps.
    static let reported = input | priority | output | error | hangUp | readHangUp

    /// Bits that describe the end of a stream rather than new data. They are sticky in the kernel
    /// but can be stale in an io_uring completion, which is a snapshot.
    static let closure = error | hangUp

    /// The bits to ask the kernel for: readable also asks for read hang-up, so that a peer's
    /// shutdown is seen as `isReadClosed`.
    static func requested(by interests: Interest) -> UInt32 {
        var bits: UInt32 = 0
        if interests.isReadable { bits |= input | readHangUp }
        if interests.isWritable { bits |= output }
        if interests.isPriority { bits |= priority }
        return bits
    }

    /// A kernel mask reduced to what events report. `POLLNVAL` (the descriptor is not open)
    /// becomes an error.
    static func normalized(_ mask: UInt32) -> UInt32 {
        var bits = mask & reported
        if mask & invalid != 0 { bits |= error }
        return bits
    }
}
