import CMeasure
import RingPoll

/// `RingPollEchoLoop` on a thread of its own, with idle Unix socketpairs registered beside it.
final class RingPollEchoServer: EchoServer {
    let port: UInt16
    let threadIDs: [pid_t]
    private let stopWaker: Waker
    private let thread: OSThread
    private let finished: Startup<Bool>

    init(backend: Backend, idleSockets: Int) throws(BenchError) {
        let started = Startup<Started>()
        let finished = Startup<Bool>()
        thread = OSThread {
            do throws(BenchError) {
                try RingPollEchoServer.serve(backend: backend, idleSockets: idleSockets, started: started)
                finished.succeed(true)
            } catch {
                started.fail(error)
                finished.fail(error)
            }
        }
        let info = try started.wait()
        port = info.port
        threadIDs = [info.threadID]
        stopWaker = info.waker
        self.finished = finished
    }

    func stop() {
        try? stopWaker.wake()
        thread.join()
        do {
            _ = try finished.wait()
        } catch {
            print("warning: RingPoll echo loop: \(error)")
        }
    }

    private struct Started: Sendable {
        var port: UInt16
        var threadID: pid_t
        var waker: Waker
    }

    /// The server thread: sets everything up on this thread (the ring belongs to it), serves,
    /// and tears down.
    private static func serve(backend: Backend, idleSockets: Int, started: Startup<Started>) throws(BenchError) {
        do throws(Errno) {
            let poll = try Poll(backend: backend)
            let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
            try poll.registry.register(listener, token: RingPollEchoLoop.listenerToken, interests: .readable)
            let waker = try Waker(registry: poll.registry, token: RingPollEchoLoop.stopToken)
            let idle = try idleStreams(count: idleSockets)
            for (index, stream) in idle.enumerated() {
                try poll.registry.register(stream, token: Token(RingPollEchoLoop.firstIdleToken + index), interests: .readable)
            }
            started.succeed(Started(port: try listener.localAddress().port, threadID: rpm_gettid(), waker: waker))
            var loop = RingPollEchoLoop(poll: poll, listener: listener)
            try loop.run()
            for stream in idle { try? stream.close() }
        } catch {
            throw BenchError("RingPoll \(backend) echo server: \(error)")
        }
    }

    private static func idleStreams(count: Int) throws(Errno) -> [UnixStream] {
        var streams: [UnixStream] = []
        streams.reserveCapacity(count)
        for _ in 0..<(count / 2) {
            let (first, second) = try UnixStream.pair()
            streams.append(first)
            streams.append(second)
        }
        return streams
    }
}
