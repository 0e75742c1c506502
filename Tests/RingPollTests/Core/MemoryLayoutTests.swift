import Testing
@testable import RingPoll

/// Sizes the hot paths rely on (see `RegistrationTable.allocateSlots` and `OwnedDescriptor`): a
/// field added carelessly would silently cost a cache miss per registration or per I/O call.
@Suite struct MemoryLayoutTests {
    /// A registration slot fits one 64-byte cache line; the table aligns its storage to lines.
    @Test func aRegistrationFitsOneCacheLine() {
        #expect(MemoryLayout<Registration>.stride <= 64)
    }

    /// The descriptor, its flags and its registration lock live inline in the socket object
    /// (one line with the object header), not in an object of their own.
    @Test func theOwnedDescriptorFitsInTheSocketsFirstLine() {
        let objectHeader = 16
        #expect(objectHeader + MemoryLayout<OwnedDescriptor>.size <= 64)
    }
}
