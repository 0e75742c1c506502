import Glibc
import Testing
@testable import RingPoll

@Suite struct NetPipeTests {
    @Test(arguments: TestBackends.all)
    func roundTripAndEndOfStream(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        let (sender, receiver) = try makePipe()
        try poll.registry.register(sender, token: Token(1), interests: .writable)
        try poll.registry.register(receiver, token: Token(2), interests: .readable)
        try pollFor(Token(1), in: poll)

        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(thrown { () throws(Errno) in try receiver.read(into: &buffer) } == .wouldBlock)
        #expect(try sender.write(pattern(10)) == 10)
        try pollFor(Token(2), in: poll)
        #expect(try receiver.read(into: &buffer) == 10)
        #expect(Array(buffer[..<10]) == pattern(10))
        #expect(buffer.count == 64)

        try sender.close()
        let closed = try pollUntil(poll) { $0.contains { $0.token == Token(2) && $0.isReadClosed } }
        #expect(closed.contains { $0.token == Token(2) && $0.isReadClosed })
        #expect(try receiver.read(into: &buffer) == 0)
    }

    @Test(arguments: TestBackends.all)
    func closingRegisteredSenderGivesEOFWithin100Milliseconds(backend: Backend) throws {
        let poll = try Poll(backend: backend)
        var (sender, receiver): (PipeSender?, PipeReceiver) = try makePipe()
        try poll.registry.register(sender!, token: Token(1), interests: .writable)
        try pollFor(Token(1), in: poll)
        sender = nil  // deinit deregisters and closes
        #expect(sender == nil)
        #expect(waitFor(receiver.fileDescriptor, POLLIN, within: .milliseconds(100)))
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(try receiver.read(into: &buffer) == 0)
    }

    @Test func writeWithoutReaderIsBrokenPipeNotSIGPIPE() throws {
        let (sender, receiver) = try makePipe()
        try receiver.close()
        // Without the guard, SIGPIPE would end the test process here.
        #expect(thrown { () throws(Errno) in try sender.write([1, 2, 3]) } == .brokenPipe)
        let vectored = [UInt8](repeating: 1, count: 4).withUnsafeBytes { bytes in
            thrown { () throws(Errno) in try sender.write([bytes, bytes]) }
        }
        #expect(vectored == .brokenPipe)
        // The signal mask is as it was and no SIGPIPE is left pending for later.
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        #expect(sigismember(&mask, SIGPIPE) == 0)
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
    }

    @Test func brokenPipeLeavesNoSignalPendingWhenTheCallerBlocksSIGPIPE() throws {
        var pipeOnly = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let (sender, receiver) = try makePipe()
        try receiver.close()
        #expect(thrown { () throws(Errno) in try sender.write([1]) } == .brokenPipe)
        var mask = sigset_t()
        pthread_sigmask(SIG_BLOCK, nil, &mask)
        #expect(sigismember(&mask, SIGPIPE) == 1)  // still blocked, as the caller set it
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
    }

    @Test func fullPipeWouldBlock() throws {
        let (sender, receiver) = try makePipe()
        let chunk = [UInt8](repeating: 0xAB, count: 65536)
        var total = 0
        while case .success(let count) = outcome({ () throws(Errno) in try sender.write(chunk) }) {
            total += count
            try #require(total < 64 << 20, "the pipe never filled")
        }
        #expect(thrown { () throws(Errno) in try sender.write(chunk) } == .wouldBlock)
        var buffer = [UInt8](repeating: 0, count: 65536)
        var drained = 0
        while case .success(let count) = outcome({ () throws(Errno) in try receiver.read(into: &buffer) }) {
            drained += count
        }
        #expect(drained == total)
    }

    @Test func vectoredWriteAndRead() throws {
        let (sender, receiver) = try makePipe()
        let written = try [UInt8]([1, 2]).withUnsafeBytes { a in
            try [UInt8]([3, 4, 5]).withUnsafeBytes { b in try sender.write([a, b]) }
        }
        #expect(written == 5)
        var first = [UInt8](repeating: 0, count: 3)
        var second = [UInt8](repeating: 0, count: 3)
        let read = try first.withUnsafeMutableBytes { a in
            try second.withUnsafeMutableBytes { b in try receiver.read(into: [a, b]) }
        }
        #expect(read == 5 && first == [1, 2, 3] && second == [4, 5, 0])

        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 2, alignment: 1)
        defer { raw.deallocate() }
        raw.copyBytes(from: [6, 7])
        #expect(try sender.write(UnsafeRawBufferPointer(raw)) == 2)
        raw.copyBytes(from: [0, 0])
        #expect(try receiver.read(into: raw) == 2)
        #expect(Array(raw) == [6, 7])
    }

    @Test func blockingModeCanBeToggled() throws {
        let (sender, receiver) = try makePipe()
        for fd in [sender.fileDescriptor, receiver.fileDescriptor] {
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0 && fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }
        try sender.setNonBlocking(false)
        try receiver.setNonBlocking(false)
        #expect(fcntl(sender.fileDescriptor, F_GETFL) & O_NONBLOCK == 0)
        #expect(fcntl(receiver.fileDescriptor, F_GETFL) & O_NONBLOCK == 0)
        #expect(try sender.write([1]) == 1)
        var buffer = [UInt8](repeating: 0, count: 1)
        #expect(try receiver.read(into: &buffer) == 1)  // data is there: a blocking read returns
        try receiver.setNonBlocking(true)
        try sender.setNonBlocking(true)
        #expect(fcntl(receiver.fileDescriptor, F_GETFL) & O_NONBLOCK != 0)
        #expect(thrown { () throws(Errno) in try receiver.read(into: &buffer) } == .wouldBlock)
    }

    @Test func adoptingSetsFlags() throws {
        var raw: [CInt] = [-1, -1]
        try #require(pipe(&raw) == 0)
        let receiver = try PipeReceiver(adopting: raw[0])
        let sender = try PipeSender(adopting: raw[1])
        for fd in raw {
            #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0 && fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        }
        #expect(try sender.write([5]) == 1)
        var buffer = [UInt8](repeating: 0, count: 2)
        #expect(try receiver.read(into: &buffer) == 1)
        #expect(thrown { () throws(Errno) in try receiver.read(into: &buffer) } == .wouldBlock)
    }
}
