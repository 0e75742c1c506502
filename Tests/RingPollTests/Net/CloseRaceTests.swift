import Glibc
import Synchronization
import Testing
@testable import RingPoll

/// A stream's calls on its owner thread (the first thread that used it) are not counted, so a
/// close from another thread must keep the number taken: the file is released at once, but the
/// number points at a dead placeholder until the stream goes away, and no call can reach a file
/// that reused it.
@Suite(.serialized) struct CloseRaceTests {
    /// The test thread reads first and owns the stream; another thread closes it.
    @Test(arguments: TestBackends.all, [false, true])
    func closeFromAnotherThreadReleasesTheFileAndKeepsTheNumber(backend: Backend, registered: Bool) throws {
        let poll = try Poll(backend: backend)
        var (stream, peer): (UnixStream?, UnixStream) = try UnixStream.pair()
        let number = stream!.fileDescriptor
        let original = try FileIdentity.of(number)
        if registered {
            try poll.registry.register(stream!, token: Token(1), interests: .readable)
            var events = Events(capacity: 4)
            try poll.pollRetrying(&events, timeout: .zero)  // armed: on io_uring the kernel holds the file
        }
        var byte: UInt8 = 0
        #expect(throws: Errno.wouldBlock) { try withUnsafeMutableBytes(of: &byte) { _ = try stream!.read(into: $0) } }

        do {
            let closing = Handoff(stream!)
            #expect(TestThread { (try? closing.value.close()) != nil }.join())
        }
        var events = Events(capacity: 4)
        try poll.pollRetrying(&events, timeout: .zero)  // io_uring: the cancel goes out with this poll
        #expect(events.isEmpty)

        // The file is gone: the peer reads end of stream.
        #expect(try readsEndOfStream(peer))
        // The number is still taken, by the placeholder, not by the original file.
        let covering = try FileIdentity.of(number)
        #expect(covering != original)
        #expect(covering == DescriptorPlaceholder.identity)
        // Calls on the closed stream fail as closed, not as the placeholder would answer.
        #expect(stream!.fileDescriptor == -1)
        #expect(throws: Errno.badFileDescriptor) { try withUnsafeMutableBytes(of: &byte) { _ = try stream!.read(into: $0) } }
        #expect(throws: Errno.badFileDescriptor) { try withUnsafeBytes(of: byte) { _ = try stream!.write($0) } }
        #expect(stream!.takeError() == .badFileDescriptor)

        // Once the stream is gone, so is the number's placeholder.
        stream = nil
        #expect((try? FileIdentity.of(number)) != DescriptorPlaceholder.identity)
    }

    /// The owner closing its own stream gives the number back at once (no placeholder).
    @Test(arguments: TestBackends.all)
    func closeOnTheOwnerThreadGivesTheNumberBack(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let (stream, peer) = try UnixStream.pair()
        try poll.registry.register(stream, token: Token(1), interests: .readable)
        var byte: UInt8 = 0
        #expect(throws: Errno.wouldBlock) { try withUnsafeMutableBytes(of: &byte) { _ = try stream.read(into: $0) } }
        let number = stream.fileDescriptor
        try stream.close()
        #expect(try readsEndOfStream(peer))
        let now = try? FileIdentity.of(number)
        #expect(now == nil || now != DescriptorPlaceholder.identity)
    }

    /// An owner thread reads in a loop while another thread closes the stream and a third opens
    /// sockets with data waiting, to take any number that is given back. The owner must never
    /// read a byte: every read says would-block until the close, then badFileDescriptor.
    @Test func ownerCallsRacingACloseNeverReachAReusedNumber() throws {
        let rounds = 300
        let strays = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        // Grabs freed numbers: socketpairs whose first end is readable.
        let grabber = TestThread { () -> Int in
            var held: [UnixStream] = []
            var made = 0
            while !stop.load(ordering: .relaxed) {
                guard let (first, second) = try? UnixStream.pair() else { continue }
                _ = try? [UInt8](repeating: 1, count: 1).withUnsafeBytes { try second.write($0) }
                held.append(first)
                held.append(second)
                if held.count > 64 { held.removeFirst(2) }
                made += 1
            }
            return made
        }
        for _ in 0..<rounds {
            let (stream, peer) = try UnixStream.pair()
            let shared = Handoff(stream)
            let started = Atomic<Bool>(false)
            let owner = TestThread { () -> Bool in
                var buffer = [UInt8](repeating: 0, count: 16)
                while true {
                    do throws(Errno) {
                        let count = try shared.value.read(into: &buffer)
                        // Data came from another file; end of stream, from the placeholder.
                        if count != 0 { strays.add(1, ordering: .relaxed) }
                        return false
                    } catch {
                        started.store(true, ordering: .releasing)
                        if error == .badFileDescriptor { return true }
                        if error != .wouldBlock { return false }
                    }
                }
            }
            #expect(waitUntil { started.load(ordering: .acquiring) })
            try shared.value.close()
            #expect(owner.join(), "the owner's last read ended otherwise than as closed")
            _ = peer
        }
        stop.store(true, ordering: .relaxed)
        #expect(grabber.join() > 0)
        #expect(strays.load(ordering: .relaxed) == 0)
    }

    private func readsEndOfStream(_ peer: UnixStream) throws -> Bool {
        var probe = pollfd(fd: peer.fileDescriptor, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&probe, 1, 1000) == 1 else { return false }
        var buffer = [UInt8](repeating: 0, count: 1)
        return try peer.read(into: &buffer) == 0
    }
}
