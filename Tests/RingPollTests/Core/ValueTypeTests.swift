import Testing
@testable import RingPoll

@Suite struct ValueTypeTests {
    @Test func interestDescriptionAndRemoval() {
        #expect(Interest.readable.description == "READABLE")
        #expect([Interest.readable, .writable].reduce(Interest()) { $0.union($1) }.description == "READABLE | WRITABLE")
        #expect(Interest([.readable, .writable, .priority]).description == "READABLE | WRITABLE | PRIORITY")
        #expect(Interest([.readable, .writable]).removing(.readable) == .writable)
        #expect(Interest.readable.removing(.readable) == nil)
        #expect(Interest.readable.removing(.writable) == .readable)
        #expect(Interest.priority.isPriority && !Interest.priority.isReadable)
    }

    @Test func tokensCompareByValueAndAcceptEveryInt() {
        #expect(Token(1) < Token(2))
        #expect(Token(Int.max) == Token(Int.max))
        #expect(Token(Int.min).rawValue == Int.min)
        #expect(Set([Token(3), Token(3), Token(-1)]).count == 2)
    }

    /// The contract's flag table, row by row, from raw poll bits.
    @Test func eventFlagsFollowMiosDerivation() {
        let IN = PollBits.input, PRI = PollBits.priority, OUT = PollBits.output
        let ERR = PollBits.error, HUP = PollBits.hangUp, RDHUP = PollBits.readHangUp
        func event(_ bits: UInt32) -> Event { Event(token: Token(0), bits: bits) }

        #expect(event(IN).isReadable && event(PRI).isReadable && !event(OUT).isReadable)
        #expect(event(OUT).isWritable && !event(IN).isWritable)
        #expect(event(ERR).isError && !event(HUP).isError)
        #expect(event(HUP).isReadClosed && event(IN | RDHUP).isReadClosed)
        #expect(!event(RDHUP).isReadClosed, "RDHUP without IN is not read-closed")
        #expect(event(HUP).isWriteClosed && event(OUT | ERR).isWriteClosed && event(ERR).isWriteClosed)
        #expect(!event(IN | ERR).isWriteClosed, "ERR with other bits but no OUT is not write-closed")
        #expect(event(PRI).isPriority && !event(IN).isPriority)
        #expect(event(PollBits.invalid).isError, "POLLNVAL reports as an error")
        #expect(event(IN | OUT).description == "Event(Token(0): READABLE | WRITABLE)")
    }

    @Test func eventsKeepTheirCapacityAndStartEmpty() {
        var events = Events(capacity: 8)
        #expect(events.capacity == 8 && events.isEmpty && events.count == 0)
        events.append(Event(token: Token(1), bits: PollBits.input))
        #expect(events.count == 1 && events.first?.token == Token(1))
        events.removeAll()
        #expect(events.isEmpty && events.capacity == 8)
        #expect(Events(capacity: -3).capacity == 0)
    }

    @Test(arguments: TestBackends.all)
    func zeroCapacityIsAnInvalidArgument(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        var events = Events(capacity: 0)
        #expect(throws: Errno.invalidArgument) { try poll.pollRetrying(&events, timeout: .zero) }
    }
}
