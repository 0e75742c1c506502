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
    /// A poll with an eventfd registered under token 1 and armed, then closed without
    /// deregistering, its number taken by a new eventfd. Tests run in parallel and take numbers
    /// too, so the scene is set again until the number comes back to this test (dup2 onto it
    /// would take it from whichever test holds it now).
    private func armedRegistrationOfAReusedNumber(_ backend: Backend) throws -> (poll: Poll, reused: CInt) {
        for _ in 0..<50 {
            let poll = try Poll(backend: backend)
            let number = rp_eventfd()
            try #require(number >= 0)
            try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
            var events = Events(capacity: 8)
            try poll.pollRetrying(&events, timeout: .zero)  // armed
            close(number)
            let fresh = rp_eventfd()
            try #require(fresh >= 0)
            if fresh == number { return (poll, fresh) }
            close(fresh)
        }
        throw NumberNeverCameBack()
    }

    private struct NumberNeverCameBack: Error, CustomStringConvertible {
        var description: String { "in 50 tries, the closed number never came back to this test" }
    }

    @Test(arguments: TestBackends.all)
    func reusedEventFDNumberRegistersAgainWithoutStaleEvents(backend: Backend) throws {
        let (poll, reused) = try armedRegistrationOfAReusedNumber(backend)
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
        let (poll, reused) = try armedRegistrationOfAReusedNumber(backend)
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
