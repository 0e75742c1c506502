import Glibc
import Testing
@testable import RingPoll

/// Capacity, carry-over, readiness at registration, and what deregister and reregister promise
/// about readiness that was already on its way.
@Suite struct DeliveryTests {
    @Test(arguments: TestBackends.all)
    func readinessPresentAtRegistrationIsReportedAtOnce(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let ready = ReadyEventFD()
        defer { withExtendedLifetime(ready) {} }  // descriptors must outlive the test body, also when optimized
        try poll.registry.register(SourceFD(ready.fd), token: Token(5), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)
        #expect(events.map(\.token) == [Token(5)])
    }

    /// Readiness carried over to the next call (capacity exhausted) is dropped on deregister.
    @Test(arguments: TestBackends.all)
    func deregisterDropsCarriedOverReadiness(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let first = ReadyEventFD(), second = ReadyEventFD()
        try poll.registry.register(SourceFD(first.fd), token: Token(1), interests: .readable)
        try poll.registry.register(SourceFD(second.fd), token: Token(2), interests: .readable)
        var events = Events(capacity: 1)
        try poll.pollRetrying(&events, timeout: .seconds(2))
        #expect(events.count == 1)
        let delivered = events[0].token
        let other = delivered == Token(1) ? second : first
        try poll.registry.deregister(SourceFD(other.fd))
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
    }

    /// The kernel reported readiness (a completion queued, or task-work pending) before
    /// deregister returned: none of it reaches a later poll.
    @Test(arguments: TestBackends.withRingModes)
    func deregisterDropsReadinessTheKernelAlreadyQueued(target: BackendUnderTest) throws {
        let poll = try target.makePoll()
        let pairs = (0..<32).map { _ in SocketPair() }
        for (index, pair) in pairs.enumerated() {
            try poll.registry.register(SourceFD(pair.local), token: Token(index), interests: .readable)
        }
        var events = Events(capacity: 64)
        try poll.pollRetrying(&events, timeout: .zero)  // all armed, none ready
        // Without DEFER_TASKRUN the completions are in the CQ once the writes return; with it,
        // they are task-work the next enter turns into completions. Either way they come too late.
        for pair in pairs { pair.send() }
        for pair in pairs { try poll.registry.deregister(SourceFD(pair.local)) }
        #expect(try eventsWithin(.milliseconds(100), from: poll).isEmpty)
    }

    @Test(arguments: TestBackends.all)
    func reregisterReportsUnderTheNewTokenOnly(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)
        pair.send()  // queued in the kernel under Token(1)
        try poll.registry.reregister(SourceFD(pair.local), token: Token(2), interests: .readable)
        let seen = try pollFor(Token(2), in: poll)
        #expect(seen.map(\.token) == [Token(2)], "existing readiness re-reported under the new token only")
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
    }

    @Test(arguments: TestBackends.all)
    func reregisterCanChangeInterest(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        #expect(try eventsWithin(.milliseconds(30), from: poll).isEmpty)  // idle: not readable
        try poll.registry.reregister(SourceFD(pair.local), token: Token(1), interests: .writable)
        let seen = try pollFor(Token(1), in: poll)
        #expect(seen.count == 1 && seen[0].isWritable && !seen[0].isReadable)
    }

    /// A TCP socket polled before connect reports hang-up; once connected, that stale hang-up
    /// must not surface as read- or write-closed.
    @Test(arguments: TestBackends.all)
    func noStaleClosureAfterConnect(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, $0, &length) == 0
            }
        })
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(client) }
        try poll.registry.register(SourceFD(client), token: Token(1), interests: [.readable, .writable])
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        #expect(connected == 0 || errno == EINPROGRESS)
        let seen = try pollUntil(poll) { $0.contains { $0.isWritable && !$0.isWriteClosed } }
        let last = try #require(seen.last)
        #expect(last.isWritable && !last.isWriteClosed && !last.isReadClosed, "\(seen)")
    }
}
