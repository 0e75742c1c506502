import Glibc
import Testing
@testable import RingPoll

/// The contract's registration rules, identical on both backends.
@Suite struct RegistrationRuleTests {
    @Test(arguments: TestBackends.all)
    func registeringTwiceThrowsFileExists(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        #expect(throws: Errno.fileExists) {
            try poll.registry.register(SourceFD(pair.local), token: Token(2), interests: .writable)
        }
        // The first registration is untouched by the refused one.
        pair.send()
        let events = try pollFor(Token(1), in: poll)
        #expect(events.map(\.token) == [Token(1)])
    }

    @Test(arguments: TestBackends.all)
    func unknownSourcesThrowNoSuchFile(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try poll.registry.reregister(SourceFD(pair.local), token: Token(1), interests: .readable)
        }
        #expect(throws: Errno.noSuchFileOrDirectory) { try poll.registry.deregister(SourceFD(pair.local)) }
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        try poll.registry.deregister(SourceFD(pair.local))
        #expect(throws: Errno.noSuchFileOrDirectory) { try poll.registry.deregister(SourceFD(pair.local)) }
        #expect(throws: Errno.noSuchFileOrDirectory) {
            try poll.registry.reregister(SourceFD(pair.local), token: Token(1), interests: .readable)
        }
    }

    @Test(arguments: TestBackends.all)
    func closedDescriptorsThrowBadFileDescriptor(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        for number in [closedDescriptorNumber(), -1, -42] {
            #expect(throws: Errno.badFileDescriptor) {
                try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
            }
        }
    }

    @Test(arguments: TestBackends.all)
    func emptyInterestThrowsInvalidArgument(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        #expect(throws: Errno.invalidArgument) {
            try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: [])
        }
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        #expect(throws: Errno.invalidArgument) {
            try poll.registry.reregister(SourceFD(pair.local), token: Token(1), interests: [])
        }
    }

    /// epoll refuses regular files (they are always ready); io_uring would accept them, so the
    /// io_uring backend refuses them too.
    @Test(arguments: TestBackends.all)
    func regularFilesAreRefusedAsByEpoll(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        #expect(throws: Errno.notPermitted) {
            try poll.registry.register(SourceFD(fd), token: Token(1), interests: .readable)
        }
    }

    @Test(arguments: TestBackends.all)
    func sourceCanBeRegisteredAgainAfterDeregister(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        try poll.registry.deregister(SourceFD(pair.local))
        try poll.registry.register(SourceFD(pair.local), token: Token(2), interests: .readable)
        pair.send()
        let events = try pollFor(Token(2), in: poll)
        #expect(events.map(\.token) == [Token(2)])
    }

    /// A `SourceFD` closed without deregister, its number reused by another file (dup2 closes
    /// and reuses the number in one step, so no other test can grab it in between): the new file
    /// registers fine and no event of the old file ever surfaces.
    @Test(arguments: TestBackends.all)
    func reusedDescriptorNumberRegistersAgainWithoutStaleEvents(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let old = SocketPair()
        let number = old.local
        try poll.registry.register(SourceFD(number), token: Token(1), interests: .readable)
        var events = Events(capacity: 8)
        try poll.pollRetrying(&events, timeout: .zero)  // armed in the kernel

        let replacement = SocketPair()
        #expect(dup2(replacement.local, number) == number)  // closes the old file's number
        try poll.registry.register(SourceFD(number), token: Token(2), interests: .readable)

        // On io_uring the old file lives on while its stale poll pins it; on epoll it is gone.
        old.trySend()  // either way its readiness must not surface
        #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        replacement.send()
        let seen = try pollFor(Token(2), in: poll)
        #expect(seen.map(\.token) == [Token(2)])
    }

    @Test(arguments: TestBackends.all)
    func deregisteringAClosedSourceFDSucceeds(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        let number = pair.local
        pair.closeLocal()
        try poll.registry.deregister(SourceFD(number))
        #expect(throws: Errno.noSuchFileOrDirectory) { try poll.registry.deregister(SourceFD(number)) }
    }

    /// The same file may be registered with two polls, as with epoll instances.
    @Test(arguments: TestBackends.all)
    func oneDescriptorInTwoPolls(backend: Backend) throws {
        let first = try Poll(backend: backend)
        let second = try Poll(backend: backend)
        let pair = SocketPair()
        try first.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        try second.registry.register(SourceFD(pair.local), token: Token(2), interests: .readable)
        pair.send()
        #expect(try pollFor(Token(1), in: first).map(\.token) == [Token(1)])
        #expect(try pollFor(Token(2), in: second).map(\.token) == [Token(2)])
    }

    @Test(arguments: TestBackends.all)
    func registryCallsAfterThePollIsGoneFail(backend: Backend) throws {
        var poll: Poll? = try Poll(backend: backend)
        let registry = poll!.registry
        let waker = try Waker(registry: registry, token: Token(9))
        poll = nil
        let pair = SocketPair()
        #expect(throws: Errno.badFileDescriptor) {
            try registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        }
        try waker.wake()  // a late wake from another thread must not fail or crash
    }
}
