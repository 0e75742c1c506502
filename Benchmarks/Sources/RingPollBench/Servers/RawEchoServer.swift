import CMeasure
import CRawLoops
import Glibc

/// One of the raw C echo loops (CRawLoops) on a thread of its own.
final class RawEchoServer: EchoServer {
    enum Loop { case epoll, ioUring }

    let port: UInt16
    let threadIDs: [pid_t]
    private let listenFD: Int32
    private let stopFD: Int32
    private let idle: UnsafeMutableBufferPointer<Int32>
    private let configuration: UnsafeMutablePointer<rl_echo_config>
    private let thread: OSThread
    private let outcome: Startup<Int32>

    init(loop: Loop, idleSockets: Int) throws(BenchError) {
        var port: UInt16 = 0
        let listenFD = rl_listen(&port)
        guard listenFD >= 0 else { throw BenchError("listen", errno: -listenFD) }
        let stopFD = rl_eventfd()
        guard stopFD >= 0 else {
            close(listenFD)
            throw BenchError("eventfd", errno: -stopFD)
        }
        let pairs: [Int32]
        do throws(BenchError) {
            pairs = try SocketPairs(descriptors: idleSockets).handOver()
        } catch {
            close(listenFD)
            close(stopFD)
            throw error
        }
        idle = .allocate(capacity: max(1, pairs.count))
        _ = idle.initialize(from: pairs)
        configuration = .allocate(capacity: 1)
        configuration.initialize(to: rl_echo_config(listen_fd: listenFD, stop_fd: stopFD,
                                                    idle_fds: UnsafePointer(idle.baseAddress), idle_count: Int32(pairs.count)))
        self.port = port
        self.listenFD = listenFD
        self.stopFD = stopFD
        let started = Startup<pid_t>()
        let finished = Startup<Int32>()
        let handle = ConfigurationHandle(pointer: configuration)
        thread = OSThread {
            started.succeed(rpm_gettid())
            let result = switch loop {
            case .epoll: rl_epoll_echo_run(handle.pointer)
            case .ioUring: rl_uring_echo_run(handle.pointer)
            }
            finished.succeed(result)
        }
        outcome = finished
        threadIDs = [try started.wait()]
    }

    func stop() {
        rl_eventfd_signal(stopFD)
        thread.join()
        if let result = try? outcome.wait(), result < 0 {
            print("warning: raw echo loop ended with \(String(cString: strerror(-result)))")
        }
        close(listenFD)
        close(stopFD)
        for index in 0..<Int(configuration.pointee.idle_count) { close(idle[index]) }
        idle.deallocate()
        configuration.deallocate()
    }
}

/// The loop's configuration, read only by the loop thread while it runs.
private struct ConfigurationHandle: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<rl_echo_config>
}
