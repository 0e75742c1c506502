import Testing
@testable import RingPoll

/// Registry calls for RingPoll's own sockets on the poll thread, between two polls of a ring that
/// thread already owns: changes that cancel each other before the kernel saw them, and more
/// changes than the SQ holds.
extension ManyDescriptorTests {
    @Suite struct PollThreadRegistrationTests {
        /// A stream whose peer has written a byte: readable from the start.
        private static func readablePair() throws -> (UnixStream, UnixStream) {
            let (local, peer) = try UnixStream.pair()
            _ = try peer.write([7])
            return (local, peer)
        }

        /// The first poll makes this thread the ring's owner.
        private static func adoptedPoll(_ target: BackendUnderTest, submissionEntries: UInt32 = 512) throws -> Poll {
            let poll = try target.makePoll(submissionEntries: submissionEntries, completionEntries: 4096)
            var events = Events(capacity: 8)
            try poll.pollRetrying(&events, timeout: .zero)
            return poll
        }

        @Test(arguments: TestBackends.withRingModes)
        func registerThenDeregisterBeforeAPollReportsNothing(target: BackendUnderTest) throws {
            let poll = try Self.adoptedPoll(target)
            let (local, peer) = try Self.readablePair()
            try poll.registry.register(local, token: Token(1), interests: .readable)
            try poll.registry.deregister(local)
            #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)

            // Registered again: the readiness that holds is reported once, for the new token.
            try poll.registry.register(local, token: Token(2), interests: .readable)
            let seen = try eventsWithin(.milliseconds(100), from: poll)
            #expect(seen.map(\.token) == [Token(2)])
            withExtendedLifetime(peer) {}
        }

        @Test(arguments: TestBackends.withRingModes)
        func reregisterBeforeAPollReportsOnlyTheNewToken(target: BackendUnderTest) throws {
            let poll = try Self.adoptedPoll(target)
            let (local, peer) = try Self.readablePair()
            try poll.registry.register(local, token: Token(1), interests: .writable)
            try poll.registry.reregister(local, token: Token(2), interests: .readable)
            let seen = try eventsWithin(.milliseconds(100), from: poll)
            #expect(seen.map(\.token) == [Token(2)])
            #expect(seen.first?.isReadable == true)
            #expect(seen.first?.isWritable == false)
            withExtendedLifetime(peer) {}
        }

        /// Closing a stream registered moments ago, before any poll: the peer sees the close at once.
        @Test(arguments: TestBackends.withRingModes)
        func closingAStreamRegisteredBeforeAPollReleasesIt(target: BackendUnderTest) throws {
            let poll = try Self.adoptedPoll(target)
            let (local, peer) = try UnixStream.pair()
            try poll.registry.register(local, token: Token(1), interests: .readable)
            try local.close()
            var byte: [UInt8] = [0]
            #expect(try peer.read(into: &byte) == 0, "the peer must see end of stream")
            #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        }

        /// Far more changes than a 4-entry SQ holds, made between two polls: submitted in
        /// batches, every registration reports exactly once per edge, to its current token.
        @Test(arguments: TestBackends.withRingModes)
        func registryCallsThatFillTheSubmissionQueueLoseNothing(target: BackendUnderTest) throws {
            raiseDescriptorLimit()
            let poll = try Self.adoptedPoll(target, submissionEntries: 4)
            let count = 300
            let pairs = try (0..<count).map { _ in try Self.readablePair() }
            for (index, pair) in pairs.enumerated() {
                try poll.registry.register(pair.0, token: Token(index), interests: .readable)
            }
            // Every other one moves to a new token before the kernel has reported anything.
            for index in stride(from: 0, to: count, by: 2) {
                try poll.registry.reregister(pairs[index].0, token: Token(count + index), interests: .readable)
            }
            let expected = Set((0..<count).map { $0.isMultiple(of: 2) ? count + $0 : $0 })
            var counts: [Int: Int] = [:]
            try pollUntil(poll, within: .seconds(20)) { events in
                counts = Dictionary(events.map { ($0.token.rawValue, 1) }, uniquingKeysWith: +)
                return Set(counts.keys) == expected
            }
            #expect(Set(counts.keys) == expected)
            #expect(counts.values.allSatisfy { $0 == 1 }, "an edge was reported twice")
            for (local, _) in pairs { try poll.registry.deregister(local) }
            for (_, peer) in pairs { _ = try peer.write([7]) }
            #expect(try eventsWithin(.milliseconds(50), from: poll).isEmpty)
        }
    }
}
