import Glibc
import RingPoll
import RingPollAsync
import Synchronization
import Testing

/// An actor confined to an executor's thread.
actor Tally {
    let executor: PollExecutor
    var count = 0
    var offThread = 0

    init(executor: PollExecutor) {
        self.executor = executor
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    func add() {
        if !executor.isCurrent { offThread += 1 }
        count += 1
    }

    /// An actor on the executor does I/O without leaving the thread.
    func echoOnce(_ stream: AsyncUnixStream, _ peer: AsyncUnixStream) async throws -> [UInt8] {
        try await peer.write([1, 2, 3])
        let bytes = try await readSome(stream)
        if !executor.isCurrent { offThread += 1 }
        return bytes
    }
}

@Suite struct ExecutorTests {
    /// The serial role: an actor on the executor runs on its thread, one job at a time, while
    /// many tasks on other threads call it.
    @Test(arguments: AsyncTestBackends.all)
    func actorsRunOnTheExecutorThread(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let tally = Tally(executor: executor)
            await withTaskGroup(of: Void.self) { callers in
                for _ in 0..<50 {
                    callers.addTask { for _ in 0..<100 { await tally.add() } }
                }
            }
            #expect(await tally.count == 5_000)
            #expect(await tally.offThread == 0)
            let (stream, peer) = try AsyncUnixStream.pair(on: executor)
            #expect(try await tally.echoOnce(stream, peer) == [1, 2, 3])
            #expect(await tally.offThread == 0)
            // assumeIsolated works on the executor's thread (checkIsolated).
            let assumed = await Task(executorPreference: executor) { Self.assumedCount(tally) }.value
            #expect(assumed == 5_000)
        }
    }

    /// Jobs enqueued from many threads at once all run, on the executor's thread.
    @Test(arguments: AsyncTestBackends.all)
    func jobsFromManyThreads(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let ran = Counter(), wrong = Counter()
            let threads = (0..<4).map { _ in
                ClientThread { () -> [Task<Void, Never>] in
                    (0..<500).map { _ in
                        Task(executorPreference: executor) {
                            if !executor.isCurrent { wrong.increment() }
                            ran.increment()
                        }
                    }
                }
            }
            for thread in threads {
                let tasks = try #require(await thread.value(within: .seconds(60)))
                for task in tasks { try await within(.seconds(30)) { await task.value } }
            }
            #expect(ran.count == 2_000)
            #expect(wrong.count == 0)
        }
    }

    /// A task that keeps yielding does not keep readiness from being served.
    @Test(arguments: AsyncTestBackends.all)
    func aYieldingTaskDoesNotStarveIO(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let stop = Counter()
            let spinner = Task(executorPreference: executor) {
                while stop.count == 0 { await Task.yield() }
            }
            let (reader, writer) = try AsyncUnixStream.pair(on: executor)
            for round in 0..<100 {
                try await writer.write([UInt8(round)])
                #expect(try await within(.seconds(30)) { try await readSome(reader) } == [UInt8(round)])
            }
            stop.increment()
            await spinner.value
        }
    }

    /// Synchronous code on the executor's thread may assume an actor of that executor.
    static func assumedCount(_ tally: Tally) -> Int {
        tally.assumeIsolated { $0.count }
    }

    @Test func reportsTheBackendItGot() throws {
        // An explicit backend is the one the executor's poll uses.
        let executor = try PollExecutor(backend: .epoll)
        #expect(executor.backend == .epoll)
        executor.syncShutdownGracefully()
    }
}
