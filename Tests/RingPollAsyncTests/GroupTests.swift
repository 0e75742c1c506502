import Glibc
import RingPoll
import RingPollAsync
import Synchronization
import Testing

@Suite struct GroupTests {
    /// Two executors, each accepting on its own SO_REUSEPORT listener of one port: connections
    /// are spread over both threads, and each is echoed on the thread that accepted it.
    @Test(arguments: AsyncTestBackends.all)
    func twoExecutorsShareTheLoad(backend: Backend) async throws {
        let group = try PollExecutorGroup(threads: 2, backend: backend)
        #expect(group.executors.count == 2)
        #expect(group.executors.allSatisfy { $0.backend == backend })
        let first = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), reusePort: true, on: group.executors[0])
        let address = try first.localAddress()
        let second = try AsyncTCPListener.bind(address, reusePort: true, on: group.executors[1])
        let served = [Counter(), Counter()]
        let wrongThread = Counter()
        let servers = [first, second].enumerated().map { index, listener in
            Task(executorPreference: listener.executor) {
                await withDiscardingTaskGroup { connections in
                    while let connection = try? await listener.accept().0 {
                        served[index].increment()
                        connections.addTask {
                            if !listener.executor.isCurrent { wrongThread.increment() }
                            var buffer = [UInt8](repeating: 0, count: 256)
                            while let count = try? await connection.read(into: &buffer), count > 0 {
                                if !listener.executor.isCurrent { wrongThread.increment() }
                                try? await connection.write(Array(buffer[..<count]))
                            }
                        }
                    }
                }
            }
        }
        // 200 clients from tasks on the global executor, 20 round trips each.
        try await within(.seconds(60), "the clients") {
          try await withThrowingTaskGroup(of: Void.self) { clients in
            for index in 0..<200 {
                clients.addTask {
                    let stream = try await AsyncTCPStream.connect(to: address, on: group.next())
                    for round in 0..<20 {
                        let message = Array("client \(index) round \(round)".utf8)
                        try await stream.write(message)
                        #expect(try await readExactly(message.count, from: stream) == message)
                    }
                    try stream.close()
                }
            }
            try await clients.waitForAll()
          }
        }
        print("GroupTests (\(backend)): connections per executor \(served.map(\.count))")
        #expect(served[0].count + served[1].count == 200)
        #expect(served[0].count > 0 && served[1].count > 0, "both threads accepted: \(served.map(\.count))")
        #expect(wrongThread.count == 0)
        try first.close()
        try second.close()
        try await within(.seconds(30), "shutdown") { await group.shutdownGracefully() }
        for server in servers { try await within(.seconds(30)) { await server.value } }
    }

    @Test func nextIsRoundRobin() throws {
        let group = try PollExecutorGroup(threads: 3, backend: .epoll)
        defer { group.syncShutdownGracefully() }
        let picks = (0..<6).map { _ in ObjectIdentifier(group.next()) }
        let ids = group.executors.map(ObjectIdentifier.init)
        #expect(picks == ids + ids)
    }

    /// `withTaskExecutorPreference` moves nonisolated code onto the executor's thread, and the
    /// tasks it starts inherit the preference.
    @Test(arguments: AsyncTestBackends.all)
    func worksWithTaskExecutorPreference(backend: Backend) async throws {
        let group = try PollExecutorGroup(threads: 2, backend: backend)
        for executor in group.executors {
            let (here, inChild, afterSleep) = await withTaskExecutorPreference(executor) { () async -> (Bool, Bool, Bool) in
                let here = executor.isCurrent
                let inChild = await Task(executorPreference: executor) { executor.isCurrent }.value
                let child = await withTaskGroup(of: Bool.self) { tasks in
                    tasks.addTask { executor.isCurrent }
                    return await tasks.next()!
                }
                try? await executor.sleep(for: .milliseconds(1))
                return (here, inChild && child, executor.isCurrent)
            }
            #expect(here && inChild && afterSleep)
        }
        await group.shutdownGracefully()
    }
}

