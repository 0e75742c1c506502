// Port of mio's tests/unix_pipe.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// Differences from mio:
// - `pipe::new()` is `makePipe()`; `Sender`/`Receiver` are `PipeSender`/`PipeReceiver`.
// - Dropping an end on the helper thread is `close()`: the test function still holds the end, so
//   releasing the thread's reference would not close it. The contract makes `close()` and
//   `deinit` equivalent.
// - `Sender::from(ChildStdin)` and `Receiver::from(ChildStdout)` are `PipeSender(adopting:)` and
//   `PipeReceiver(adopting:)` on the parent's ends of `cat`'s pipes (blocking and close-on-exec,
//   as std leaves them). Adopting also sets O_NONBLOCK, where mio's `from` keeps the descriptor
//   blocking; `nonblocking_child_process_io` therefore checks that `setNonBlocking(true)` on an
//   adopted end is harmless and the end does not block.
// - `expect_one_closed_event` polls once, as mio does, with a 5 s timeout instead of 1 s (the
//   poll returns as soon as the event is there).
// - `nonblocking_child_process_io` involves no `Poll` and runs once.

import Glibc
import Testing
@testable import RingPoll

@Suite("mio unix_pipe.rs") struct UnixPipeConformanceTests {
    private static let receiver = Token(0)
    private static let sender = Token(1)
    private static let data1 = Array("Hello world".utf8)

    @Test("unix_pipe::smoke", arguments: TestBackends.all)
    func smoke(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 8)
        let (sender, receiver) = try makePipe()

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.assertWouldBlock { try receiver.read(into: &buffer) }

        try test.registry.register(receiver, token: Self.receiver, interests: .readable)
        try test.registry.register(sender, token: Self.sender, interests: .writable)

        try test.expectEvents([MioExpectEvent(Self.sender, .writable)])
        #expect(try sender.write(Self.data1) == Self.data1.count)

        try test.expectEvents([MioExpectEvent(Self.receiver, .readable)])
        let count = try receiver.read(into: &buffer)
        #expect(count == Self.data1.count)
        #expect(Array(buffer.prefix(count)) == Self.data1)
    }

    @Test("unix_pipe::event_when_sender_is_dropped", arguments: TestBackends.all)
    func eventWhenSenderIsDropped(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 8)
        let (sender, receiver) = try makePipe()
        try test.registry.register(receiver, token: Self.receiver, interests: .readable)

        let barrier = MioBarrier(2)
        let thread = MioThread {
            let written = try sender.write(Self.data1)
            guard written == Self.data1.count else { throw MioPeerFailure("short write") }
            try barrier.arrive()

            try barrier.arrive()
            try sender.close()  // mio: drop(sender)
            try barrier.arrive()
        }

        #expect(barrier.wait())  // the write is done
        try test.expectEvents([MioExpectEvent(Self.receiver, .readable)])

        #expect(barrier.wait())  // unblock the thread
        #expect(barrier.wait())  // the sending end is closed

        try expectOneClosedEvent(test, Self.receiver, read: true)
        thread.join()
        withExtendedLifetime(receiver) {}
    }

    @Test("unix_pipe::event_when_receiver_is_dropped", arguments: TestBackends.all)
    func eventWhenReceiverIsDropped(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 8)
        let (sender, receiver) = try makePipe()
        try test.registry.register(sender, token: Self.sender, interests: .writable)

        let barrier = MioBarrier(2)
        let thread = MioThread {
            try barrier.arrive()
            try receiver.close()  // mio: drop(receiver)
            try barrier.arrive()
        }

        try test.expectEvents([MioExpectEvent(Self.sender, .writable)])

        #expect(barrier.wait())  // unblock the thread
        #expect(barrier.wait())  // the receiving end is closed

        try expectOneClosedEvent(test, Self.sender, read: false)
        thread.join()
        withExtendedLifetime(sender) {}
    }

    @Test("unix_pipe::from_child_process_io", arguments: TestBackends.all)
    func fromChildProcessIO(backend: Backend) throws {
        // `cat` echoes what it reads on its standard input.
        let child = try MioChildProcess()
        let sender = try PipeSender(adopting: child.stdin)
        let receiver = try PipeReceiver(adopting: child.stdout)

        let test = try MioPoll(backend, capacity: 8)
        try test.registry.register(receiver, token: Self.receiver, interests: .readable)
        try test.registry.register(sender, token: Self.sender, interests: .writable)

        try test.expectEvents([MioExpectEvent(Self.sender, .writable)])
        #expect(try sender.write(Self.data1) == Self.data1.count)

        try test.expectEvents([MioExpectEvent(Self.receiver, .readable)])
        var buffer = [UInt8](repeating: 0, count: 20)
        let count = try receiver.read(into: &buffer)
        #expect(count == Self.data1.count)
        #expect(Array(buffer.prefix(count)) == Self.data1)

        try sender.close()  // mio: drop(sender); cat then exits
        try expectOneClosedEvent(test, Self.receiver, read: true)

        child.wait()
    }

    @Test("unix_pipe::nonblocking_child_process_io")
    func nonblockingChildProcessIO() throws {
        let child = try MioChildProcess()
        let sender = try PipeSender(adopting: child.stdin)
        let receiver = try PipeReceiver(adopting: child.stdout)

        try receiver.setNonBlocking(true)

        var buffer = [UInt8](repeating: 0, count: 20)
        Mio.assertWouldBlock { try receiver.read(into: &buffer) }

        try sender.close()  // mio: drop(sender)
        // cat exits once its input ends; its output then ends too (bounded wait).
        #expect(waitFor(receiver.fileDescriptor, POLLIN | POLLHUP))
        child.wait()
    }

    /// mio's `expect_one_closed_event`: one poll returns exactly one event, for `token`, and it is
    /// read-closed (`read`) or write-closed.
    private func expectOneClosedEvent(
        _ test: MioPoll, _ token: Token, read: Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let events = try test.pollOnce(timeout: .seconds(5))
        let event = try #require(events.first, "no event", sourceLocation: sourceLocation)
        #expect(event.token == token, "invalid token, event: \(event)", sourceLocation: sourceLocation)
        if read {
            #expect(event.isReadClosed, "expected closed or error, event: \(event)", sourceLocation: sourceLocation)
        } else {
            #expect(event.isWriteClosed, "expected closed or error, event: \(event)", sourceLocation: sourceLocation)
        }
        #expect(events.count == 1, "events: \(events)", sourceLocation: sourceLocation)
    }
}
