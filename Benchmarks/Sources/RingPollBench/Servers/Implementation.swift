import Glibc
import RingPoll

/// The contenders, in the order of the table's columns. `cEpoll` is the reference: every figure
/// is also given as a ratio to it.
enum Implementation: String, CaseIterable, Codable, Sendable {
    case cEpoll = "c-epoll"
    case cIOUring = "c-io_uring"
    case ringPollIOUring = "ringpoll-io_uring"
    case ringPollEpoll = "ringpoll-epoll"
    case exampleIOUring = "example-io_uring"
    case exampleEpoll = "example-epoll"
    case swiftNIO = "swiftnio"
    case asyncIOUring = "async-io_uring"
    case asyncEpoll = "async-epoll"
    case swiftNIOAsync = "swiftnio-async"

    var title: String {
        switch self {
        case .cEpoll: "C epoll"
        case .cIOUring: "C io_uring"
        case .ringPollIOUring: "RingPoll io_uring"
        case .ringPollEpoll: "RingPoll epoll"
        case .exampleIOUring: "example io_uring"
        case .exampleEpoll: "example epoll"
        case .swiftNIO: "SwiftNIO"
        case .asyncIOUring: "Async io_uring"
        case .asyncEpoll: "Async epoll"
        case .swiftNIOAsync: "NIOAsyncChannel"
        }
    }

    /// The RingPoll backend this column runs on, if it is a RingPoll column.
    var ringPollBackend: Backend? {
        switch self {
        case .ringPollIOUring: .ioUring
        case .ringPollEpoll: .epoll
        default: nil
        }
    }

    static let reference = Implementation.cEpoll

    /// Whether this column is a shipped example run as its own process.
    var isExampleProcess: Bool {
        self == .exampleIOUring || self == .exampleEpoll
    }

    /// The example processes and the async servers serve TCP echo only (no idle sockets, no
    /// storm, no wake workload).
    var servesEchoOnly: Bool {
        isExampleProcess || isAsyncServer
    }
}

/// A server running on threads of its own, whose CPU time is read per thread.
protocol EchoServer: AnyObject {
    /// The TCP port on 127.0.0.1.
    var port: UInt16 { get }
    /// The threads that do the serving (their CPU time and system calls are the server's).
    var threadIDs: [pid_t] { get }
    /// Stops serving, closes every connection and joins the threads.
    func stop()
}

/// Starts `implementation`'s echo server with `idleSockets` extra registered, never active
/// descriptors.
func startEchoServer(_ implementation: Implementation, idleSockets: Int) throws(BenchError) -> EchoServer {
    switch implementation {
    case .cEpoll: try RawEchoServer(loop: .epoll, idleSockets: idleSockets)
    case .cIOUring: try RawEchoServer(loop: .ioUring, idleSockets: idleSockets)
    case .ringPollIOUring: try RingPollEchoServer(backend: .ioUring, idleSockets: idleSockets)
    case .ringPollEpoll: try RingPollEchoServer(backend: .epoll, idleSockets: idleSockets)
    case .exampleIOUring: try ExampleProcessServer(program: "echo-server", arguments: ["--port", "0", "--backend", "io_uring"])
    case .exampleEpoll: try ExampleProcessServer(program: "echo-server", arguments: ["--port", "0", "--backend", "epoll"])
    case .swiftNIO: try NIOEchoServer()
    case .asyncIOUring: try AsyncEchoBenchServer(backend: .ioUring)
    case .asyncEpoll: try AsyncEchoBenchServer(backend: .epoll)
    case .swiftNIOAsync: try NIOAsyncEchoServer()
    }
}
