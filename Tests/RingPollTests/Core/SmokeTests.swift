import Testing
@testable import RingPoll

@Suite struct SmokeTests {
    @Test(arguments: TestBackends.all)
    func readableEventArrives(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        #expect(poll.backend == backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(7), interests: .readable)
        pair.send()
        let events = try pollFor(Token(7), in: poll)
        #expect(events.map(\.token) == [Token(7)])
        #expect(events.first?.isReadable == true)
    }
}
