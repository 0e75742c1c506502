/// The poll(2)/epoll readiness bits RingPoll reads. Both kernels use the same values, so an
/// io_uring completion mask and an epoll event mask are interpreted by the same code.
///
/// Literal constants rather than the C macros: they fold into the code that tests them
/// (a `static let` computed from a macro would be read through a lazy initializer every time).
@usableFromInline
enum PollBits {
    @inlinable static var input: UInt32 { 0x001 }
    @inlinable static var priority: UInt32 { 0x002 }
    @inlinable static var output: UInt32 { 0x004 }
    @inlinable static var error: UInt32 { 0x008 }
    @inlinable static var hangUp: UInt32 { 0x010 }
    @inlinable static var invalid: UInt32 { 0x020 }
    @inlinable static var readHangUp: UInt32 { 0x2000 }
    /// `EPOLLONESHOT` and `EPOLLET`, for epoll registrations.
    static var epollOneshot: UInt32 { 1 << 30 }
    static var epollEdge: UInt32 { 1 << 31 }

    /// Every bit an `Event` keeps.
    @inlinable static var reported: UInt32 { input | priority | output | error | hangUp | readHangUp }

    /// Bits that describe the end of a stream rather than new data. They are sticky in the kernel
    /// but can be stale in an io_uring completion, which is a snapshot.
    static var closure: UInt32 { error | hangUp }

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
    @inlinable
    static func normalized(_ mask: UInt32) -> UInt32 {
        mask & reported | (mask & invalid != 0 ? error : 0)
    }
}
