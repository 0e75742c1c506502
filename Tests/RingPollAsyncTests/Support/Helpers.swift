import RingPoll
import RingPollAsync
import Synchronization

/// A counter tasks can share.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func increment(by amount: Int = 1) { value.add(amount, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// Reads once into a fresh buffer of `capacity` bytes; returns the bytes read ([] at end of stream).
func readSome(_ stream: AsyncUnixStream, capacity: Int = 4096) async throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let count = try await stream.read(into: &buffer)
    return Array(buffer[..<count])
}

func readSome(_ stream: AsyncTCPStream, capacity: Int = 4096) async throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: capacity)
    let count = try await stream.read(into: &buffer)
    return Array(buffer[..<count])
}

/// Reads until `count` bytes have arrived (or end of stream).
func readExactly(_ count: Int, from stream: AsyncTCPStream) async throws -> [UInt8] {
    var received: [UInt8] = []
    while received.count < count {
        let chunk = try await readSome(stream, capacity: count - received.count)
        if chunk.isEmpty { break }
        received += chunk
    }
    return received
}

/// What a task threw, or nil.
func errorOf(_ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
