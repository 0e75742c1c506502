// Port of mio's tests/interest.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// These check `Interest` as a value and never create a `Poll`, so they run once, not per backend;
// the contract test at the end (an empty interest is refused) runs on both backends.
//
// Differences from mio:
// - mio's `Interest::add` is `union` here (Interest is an OptionSet), and `|` is an array literal.
// - `is_aio`/`is_lio` and the `AIO`/`LIO` names exist only on FreeBSD and Apple platforms; RingPoll
//   has no such interests, so those lines are left out (its third kind, `.priority`, is checked
//   instead).
// - mio's `Interest` can never be empty. RingPoll's can (it is an OptionSet), and registering an
//   empty one throws `Errno.invalidArgument`, as the contract says.

import Testing
@testable import RingPoll

@Suite("mio interest.rs") struct InterestConformanceTests {
    @Test("interest::is_tests")
    func isTests() {
        #expect(Interest.readable.isReadable)
        #expect(!Interest.readable.isWritable)
        #expect(!Interest.writable.isReadable)
        #expect(Interest.writable.isWritable)
        // mio: `!WRITABLE.is_aio()`, `!WRITABLE.is_lio()` (BSD-only kinds); RingPoll's third kind:
        #expect(!Interest.writable.isPriority)
        #expect(Interest.priority.isPriority)
    }

    @Test("interest::bit_or")
    func bitOr() {
        let interests: Interest = [.readable, .writable]
        #expect(interests.isReadable)
        #expect(interests.isWritable)
    }

    @Test("interest::fmt_debug")
    func fmtDebug() {
        #expect(Interest.readable.description == "READABLE")
        #expect(Interest.writable.description == "WRITABLE")
        #expect(Interest([.readable, .writable]).description == "READABLE | WRITABLE")
        // mio checks "AIO" and "LIO" on BSD only; RingPoll's own extra kind:
        #expect(Interest.priority.description == "PRIORITY")
    }

    @Test("interest::add")
    func add() {
        let interest = Interest.readable.union(.writable)
        #expect(interest.isReadable)
        #expect(interest.isWritable)
    }

    /// Contract, not in mio (whose `Interest` cannot be empty): removing the last kind gives
    /// `nil`, and an empty interest is refused by `register` and `reregister`.
    @Test("interest::(contract) empty interest is refused", arguments: TestBackends.all)
    func emptyInterestIsRefused(backend: Backend) throws {
        #expect(Interest.readable.removing(.readable) == nil)
        #expect(Interest([.readable, .writable]).removing(.readable) == .writable)

        let poll = try Poll(backend: backend)
        let socket = try UDPSocket.bind(Mio.anyLocalAddress)
        Mio.assertError(.invalidArgument) { try poll.registry.register(socket, token: Token(0), interests: []) }
        try poll.registry.register(socket, token: Token(0), interests: .readable)
        Mio.assertError(.invalidArgument) { try poll.registry.reregister(socket, token: Token(0), interests: []) }
        try poll.registry.deregister(socket)
    }
}
