import Glibc
import RingPoll
import RingPollAsync
import Testing

/// `sleep(for:)` runs on the executor's poll timeout: never early, in deadline order, and
/// sub-millisecond durations are kept.
@Suite struct TimerTests {
    @Test(arguments: AsyncTestBackends.all)
    func neverEarly(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let durations: [Duration] = [.microseconds(50), .microseconds(300), .milliseconds(1), .milliseconds(7), .milliseconds(20)]
            let shortest = try await Task(executorPreference: executor) { () -> [Duration] in
                var elapsed: [Duration] = []
                for duration in durations {
                    for _ in 0..<5 {
                        let start = ContinuousClock.now
                        try await executor.sleep(for: duration)
                        elapsed.append(ContinuousClock.now - start - duration)
                    }
                }
                return elapsed
            }.value
            #expect(shortest.allSatisfy { $0 >= .zero }, "a sleep ended early: \(shortest)")
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func sleepersWakeInDeadlineOrder(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let order = try await Task(executorPreference: executor) { () -> [Int] in
                try await withThrowingTaskGroup(of: Int.self) { sleepers in
                    for index in [5, 1, 4, 2, 3, 0] {
                        sleepers.addTask {
                            try await executor.sleep(for: .milliseconds(3 * index + 1))
                            return index
                        }
                    }
                    var order: [Int] = []
                    for try await index in sleepers { order.append(index) }
                    return order
                }
            }.value
            #expect(order == [0, 1, 2, 3, 4, 5])
        }
    }

    /// A sleep keeps the poll timeout short while other tasks wait for readiness, and a
    /// readiness event does not end a sleep early.
    @Test(arguments: AsyncTestBackends.all)
    func readinessDoesNotEndASleep(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (reader, writer) = try AsyncUnixStream.pair(on: executor)
            let sleeper = Task(executorPreference: executor) { () -> Duration in
                let start = ContinuousClock.now
                try await executor.sleep(for: .milliseconds(50))
                return ContinuousClock.now - start
            }
            for byte in 0..<10 {  // events on the same executor while it sleeps
                try await writer.write([UInt8(byte)])
                _ = try await readSome(reader)
            }
            let slept = try await within(.seconds(30)) { try await sleeper.value }
            #expect(slept >= .milliseconds(50))
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func zeroAndNegativeReturnAtOnce(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let took = try await within(.seconds(30)) {
                try await Task(executorPreference: executor) { () -> Duration in
                    let start = ContinuousClock.now
                    try await executor.sleep(for: .zero)
                    try await executor.sleep(for: .milliseconds(-5))
                    try await executor.sleep(until: ContinuousClock.now - .seconds(1))
                    return ContinuousClock.now - start
                }.value
            }
            #expect(took < .milliseconds(500), "measured on the executor: no wait at all")
            let start = ContinuousClock.now
            try await executor.sleep(until: start + .milliseconds(5))
            #expect(ContinuousClock.now - start >= .milliseconds(5))
        }
    }
}
