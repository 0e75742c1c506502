import CLiburing
import Glibc
import Testing
@testable import RingPoll

/// eventfd, timerfd and signalfd files share one inode, so their identity (device and inode)
/// cannot tell a closed-and-reused descriptor number from the registered file. The registration
/// rules must hold for them all the same, on both backends: a reused number registers again (and
/// the stale registration goes), a reregister of a reused number throws ENOENT, and the very same
/// file registered twice throws EEXIST. Found by the differential fuzzer (docs/RELIABILITY.md).
@Suite struct AnonymousInodeReuseTests {
    /// Closes `old` without deregistering it and opens a new eventfd that takes its number.
    private func reuseNumber(of old: CInt) throws -> CInt {
        close(old)
        let fresh = rp_eventfd()
        try #require(fresh >= 0)
        if fresh != old {
            try #require(dup2(fresh, old) == old)
            close(fresh)
        }
        return old
    }

    @Test(arguments: TestBackends.all)
    func reusedEventFDNumberRegistersAgainWithoutStaleEvents(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let number = rp_eventfd()
        try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)  // armed
        let reused = try reuseNumber(of: number)
        defer { close(reused) }
        try poll.registry.register(SourceFD(reused), token: Token(2), interests: .readable)
        var one: UInt64 = 1
        #expect(write(reused, &one, 8) == 8)
        let seen = try pollFor(Token(2), in: poll)
        #expect(seen.map(\.token) == [Token(2)], "\(seen)")
        #expect(try eventsWithin(.milliseconds(30), from: poll).isEmpty)
        // The same file again is a duplicate.
        #expect(throws: Errno.fileExists) {
            try poll.registry.register(SourceFD(reused), token: Token(3), interests: .readable)
        }
    }

    @Test(arguments: TestBackends.all)
    func reregisteringAReusedEventFDNumberThrowsNoSuchFile(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let number = rp_eventfd()
        try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)
        let reused = try reuseNumber(of: number)
        defer { close(reused) }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try poll.registry.reregister(SourceFD(reused), token: Token(2), interests: .readable)
        }
        // The stale registration is gone: the number registers afresh, and only that reports.
        try poll.registry.register(SourceFD(reused), token: Token(3), interests: .readable)
        var one: UInt64 = 1
        #expect(write(reused, &one, 8) == 8)
        #expect(try pollFor(Token(3), in: poll).map(\.token) == [Token(3)])
    }

    /// The same eventfd under two numbers (a dup) is two registrations on both backends, and
    /// deregistering one leaves the other.
    @Test(arguments: TestBackends.all)
    func duplicatedEventFDIsTwoRegistrations(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let number = rp_eventfd()
        let copy = duplicateCloseOnExec(number)
        defer { close(number); close(copy) }
        try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
        try poll.registry.register(SourceFD(copy), token: Token(2), interests: .readable)
        try poll.registry.deregister(SourceFD(number))
        var one: UInt64 = 1
        #expect(write(number, &one, 8) == 8)
        #expect(try pollFor(Token(2), in: poll).map(\.token) == [Token(2)])
        #expect(throws: Errno.fileExists) {
            try poll.registry.register(SourceFD(copy), token: Token(3), interests: .readable)
        }
    }
}
