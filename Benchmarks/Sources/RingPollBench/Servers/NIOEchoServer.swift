import CMeasure
import NIOCore
import NIOPosix

/// The minimal SwiftNIO echo server: one event loop thread, a handler that writes back what it
/// reads and flushes when a read burst is over.
final class NIOEchoServer: EchoServer {
    let port: UInt16
    let threadIDs: [pid_t]
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel

    init() throws(BenchError) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 128)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(EchoHandler())
                    }
                }
            channel = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
            port = UInt16(channel.localAddress?.port ?? 0)
            threadIDs = [try group.next().submit { rpm_gettid() }.wait()]
        } catch {
            try? group.syncShutdownGracefully()
            throw BenchError("SwiftNIO server: \(error)")
        }
        self.group = group
    }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Echoes every read; flushes once per read burst.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
