import CMeasure
import Dispatch
import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// SwiftNIO's async API as its documentation shows it: `ServerBootstrap.bind` with
/// `NIOAsyncChannel`, `executeThenClose`, one child task per connection that writes back every
/// buffer it reads. The channels' I/O runs on one event loop thread; the tasks run on Swift's
/// global concurrent executor, so the server's CPU time is that of every thread of this process
/// but the main one (the event loop and the cooperative pool threads it used).
final class NIOAsyncEchoServer: EchoServer {
    let port: UInt16
    private let group: MultiThreadedEventLoopGroup
    private let serving: Task<Void, Never>
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// Read when the trial starts and ends (after the load's warm-up), so that the pool threads
    /// the warm-up started are counted.
    var threadIDs: [pid_t] {
        let main = getpid()
        return Self.threadsOfThisProcess().filter { $0 != main }
    }

    init() throws(BenchError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bound = Mutex<Result<NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>, BenchError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(ChannelOptions.backlog, value: 1024)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    .bind(host: "127.0.0.1", port: 0) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
                bound.withLock { $0 = .success(channel) }
            } catch {
                bound.withLock { $0 = .failure(BenchError("SwiftNIO async server: \(error)")) }
            }
            done.signal()
        }
        done.wait()
        do {
            serverChannel = try bound.withLock { $0! }.get()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        port = UInt16(serverChannel.channel.localAddress?.port ?? 0)
        self.group = group
        let serverChannel = self.serverChannel
        serving = Task {
            try? await serverChannel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { tasks in
                    for try await connection in connections {
                        tasks.addTask {
                            try? await connection.executeThenClose { inbound, outbound in
                                for try await buffer in inbound {
                                    try await outbound.write(buffer)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Closes the listener, cancels the serving task (its connections' loops end and close their
    /// channels) and waits for it, then shuts the event loop down: in the other order the
    /// closing channels would schedule work on a loop that is gone.
    func stop() {
        serverChannel.channel.close(promise: nil)
        serving.cancel()
        let done = DispatchSemaphore(value: 0)
        let serving = self.serving
        Task {
            await serving.value
            done.signal()
        }
        _ = done.wait(timeout: .now() + .seconds(10))
        try? group.syncShutdownGracefully()
    }

    private static func threadsOfThisProcess() -> [pid_t] {
        guard let directory = opendir("/proc/self/task") else { return [] }
        defer { closedir(directory) }
        var threads: [pid_t] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let tid = pid_t(name) { threads.append(tid) }
        }
        return threads
    }
}
