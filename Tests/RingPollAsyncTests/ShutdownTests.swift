import Glibc
import RingPoll
import RingPollAsync
import Testing

/// Shutting an executor down with live tasks ends every wait with `CancellationError`, runs
/// what follows, joins the thread, and later operations fail cleanly instead of hanging.
@Suite struct ShutdownTests {
    @Test(arguments: AsyncTestBackends.all)
    func shutdownEndsEveryWaitAndJoinsTheThread(backend: Backend) async throws {
        let executor = try PollExecutor(backend: backend)
        let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
        let pairs = try (0..<50).map { _ in try AsyncUnixStream.pair(on: executor) }
        let (writer, unread) = try AsyncUnixStream.pair(on: executor)  // `unread` stays open, unread
        let cancelled = Counter(), finishedCleanup = Counter()
        var tasks: [Task<Void, Never>] = []
        func spawn(_ body: @escaping @Sendable () async throws -> Void) {
            tasks.append(Task(executorPreference: executor) {
                let error = await errorOf(body)
                if error is CancellationError { cancelled.increment() }
                finishedCleanup.increment()  // code after the wait still runs
            })
        }
        spawn { _ = try await listener.accept() }
        for (reader, _) in pairs { spawn { _ = try await readSome(reader) } }
        spawn { try await executor.sleep(for: .seconds(3600)) }
        spawn {
            let chunk = [UInt8](repeating: 1, count: 1 << 16)
            while true { try await writer.write(chunk) }  // nobody reads: waits for room
        }
        try await Task.sleep(for: .milliseconds(200))
        try await within(.seconds(30), "shutdown") { await executor.shutdownGracefully() }
        for task in tasks { try await within(.seconds(30)) { await task.value } }
        #expect(cancelled.count == tasks.count)
        #expect(finishedCleanup.count == tasks.count)

        // After shutdown: operations fail at once; tasks preferring the executor still run.
        let late = await errorOf { try await executor.sleep(for: .seconds(1)) }
        #expect(late is CancellationError)
        let readError = await errorOf { _ = try await readSome(pairs[0].0) }
        #expect(readError is CancellationError)
        let ran = try await within(.seconds(30)) { await Task(executorPreference: executor) { 42 }.value }
        #expect(ran == 42)
        try unread.close()
        // Shutting down again returns at once.
        try await within(.seconds(30)) { await executor.shutdownGracefully() }
    }

    /// A task on the executor may shut its own executor down.
    @Test(arguments: AsyncTestBackends.all)
    func aTaskOnTheExecutorCanShutItDown(backend: Backend) async throws {
        let executor = try PollExecutor(backend: backend)
        let task = Task(executorPreference: executor) { await executor.shutdownGracefully() }
        try await within(.seconds(30)) { await task.value }
        let after = await errorOf { try await executor.sleep(for: .milliseconds(1)) }
        #expect(after is CancellationError)
    }

    @Test(arguments: AsyncTestBackends.all)
    func syncShutdownJoins(backend: Backend) async throws {
        let group = try PollExecutorGroup(threads: 2, backend: backend)
        let sleepers = group.executors.map { executor in
            Task(executorPreference: executor) { await errorOf { try await executor.sleep(for: .seconds(3600)) } }
        }
        try await Task.sleep(for: .milliseconds(50))
        let done = ClientThread { group.syncShutdownGracefully() }
        #expect(await done.value(within: .seconds(30)) != nil)
        for sleeper in sleepers {
            let error = try await within(.seconds(30)) { await sleeper.value }
            #expect(error is CancellationError)
        }
    }
}
