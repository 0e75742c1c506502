import CTestSupport
import Glibc
import Testing
@testable import RingPoll

/// Reads, writes, sends and receives allocate nothing once the caller's buffers exist: every
/// malloc of the test's thread is counted by the interposer in CTestSupport.
@Suite(.enabled(if: MallocCounter.isUsable, "a sanitizer owns malloc in this build: the malloc counter is compiled out"))
struct NetAllocationTests {
    private static let rounds = 1000

    @Test func streamByteIOAllocatesNothing() throws {
        try #require(rp_malloc_counter_is_active() == 1)
        let pair = try ConnectedTCP()
        let (unixOne, unixTwo) = try UnixStream.pair()
        let (sender, receiver) = try makePipe()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        let into = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { out.deallocate(); into.deallocate() }
        out.initializeMemory(as: UInt8.self, repeating: 3)
        let outVectors = [UnsafeRawBufferPointer(rebasing: out[..<8]), UnsafeRawBufferPointer(rebasing: out[8...])]
        let intoVectors = [UnsafeMutableRawBufferPointer(rebasing: into[..<4]), UnsafeMutableRawBufferPointer(rebasing: into[4...])]
        let bytes = [UInt8](repeating: 5, count: 16)
        var array = [UInt8](repeating: 0, count: 64)

        func round() throws(Errno) {
            _ = try pair.client.write(UnsafeRawBufferPointer(out))
            _ = try pair.client.write(bytes)
            _ = try pair.client.write(outVectors)
            try drain(48, pair.server.fileDescriptor) { (step) throws(Errno) in
                switch step % 5 {
                case 0: _ = try pair.server.peek(into: into); return 0
                case 1: _ = try pair.server.peek(into: &array); return 0
                case 2: return try pair.server.read(into: UnsafeMutableRawBufferPointer(rebasing: into[..<8]))
                case 3: return try pair.server.read(into: &array)
                default: return try pair.server.read(into: intoVectors)
                }
            }
            _ = try unixOne.write(UnsafeRawBufferPointer(out))
            _ = try unixOne.write(bytes)
            _ = try unixOne.write(outVectors)
            try drain(48, unixTwo.fileDescriptor) { (step) throws(Errno) in
                switch step % 4 {
                case 0: _ = try unixTwo.peek(into: into); return 0
                case 1: return try unixTwo.read(into: UnsafeMutableRawBufferPointer(rebasing: into[..<8]))
                case 2: return try unixTwo.read(into: &array)
                default: return try unixTwo.read(into: intoVectors)
                }
            }
            _ = try sender.write(UnsafeRawBufferPointer(out))
            _ = try sender.write(bytes)
            _ = try sender.write(outVectors)
            try drain(48, receiver.fileDescriptor) { (step) throws(Errno) in
                switch step % 3 {
                case 0: return try receiver.read(into: UnsafeMutableRawBufferPointer(rebasing: into[..<8]))
                case 1: return try receiver.read(into: &array)
                default: return try receiver.read(into: intoVectors)
                }
            }
        }
        for _ in 0..<50 { try round() }
        rp_malloc_counter_start()
        for _ in 0..<Self.rounds { try round() }
        let allocations = rp_malloc_counter_stop()
        #expect(allocations == 0, "\(allocations) allocations in \(Self.rounds) rounds")
    }

    @Test func datagramsAllocateNothing() throws {
        try #require(rp_malloc_counter_is_active() == 1)
        let one = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        let two = try UDPSocket.bind(try SocketAddress("127.0.0.1:0"))
        let twoAddress = try two.localAddress()
        try one.connect(to: twoAddress)
        let name = try UnixAddress(abstract: temporaryAbstractName())
        let unixServer = try UnixDatagram.bind(name)
        let unixClient = try UnixDatagram.unbound()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        let into = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { out.deallocate(); into.deallocate() }
        out.initializeMemory(as: UInt8.self, repeating: 3)
        let bytes = [UInt8](repeating: 5, count: 16)
        var array = [UInt8](repeating: 0, count: 64)

        func round() throws(Errno) {
            _ = try one.send(UnsafeRawBufferPointer(out), to: twoAddress)
            _ = try one.send(bytes, to: twoAddress)
            _ = try one.send(UnsafeRawBufferPointer(out))
            _ = try one.send(bytes)
            try drain(64, two.fileDescriptor) { (step) throws(Errno) in
                switch step % 7 {
                case 0: _ = try two.peekFrom(into: into); return 0
                case 1: _ = try two.peekFrom(into: &array); return 0
                case 2: _ = try two.peek(into: into); return 0
                case 3: return try two.receiveFrom(into: into).count
                case 4: return try two.receiveFrom(into: &array).count
                case 5: return try two.receive(into: into)
                default: return try two.receive(into: &array)
                }
            }
            _ = try unixClient.send(UnsafeRawBufferPointer(out), to: name)
            _ = try unixClient.send(bytes, to: name)
            try drain(32, unixServer.fileDescriptor) { (step) throws(Errno) in
                step % 2 == 0 ? try unixServer.receiveFrom(into: into).count : try unixServer.receive(into: &array)
            }
        }
        for _ in 0..<50 { try round() }
        rp_malloc_counter_start()
        for _ in 0..<Self.rounds { try round() }
        let allocations = rp_malloc_counter_stop()
        #expect(allocations == 0, "\(allocations) allocations in \(Self.rounds) rounds")
    }
}

/// Calls `read` with step 0, 1, 2, ... until it has returned `expected` bytes in all, waiting
/// with poll(2) while a call would block (the step is then repeated). Allocation-free, so it can
/// run inside a counted section.
private func drain(_ expected: Int, _ fd: CInt, _ read: (Int) throws(Errno) -> Int) throws(Errno) {
    var total = 0
    var waits = 0
    var step = 0
    while total < expected {
        do throws(Errno) {
            total += try read(step)
            step += 1
        } catch {
            guard error == .wouldBlock, waits < 50 else { throw error }  // 5 s at most
            waits += 1
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&entry, 1, 100)
        }
    }
}
