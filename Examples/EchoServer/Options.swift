import Glibc
import RingPoll

/// `echo-server --port 7000 [--host 127.0.0.1] [--backend io_uring|epoll]`
struct Options {
    var address = SocketAddress(ip: .loopbackV4, port: 7000)
    var backend = Backend.automatic

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var host = "127.0.0.1", port = "7000"
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { usage("\(flag) needs a value") }
            switch flag {
            case "--port": port = value
            case "--host": host = value
            case "--backend":
                switch value {
                case "io_uring": options.backend = .ioUring
                case "epoll": options.backend = .epoll
                default: usage("unknown backend \(value)")
                }
            default: usage("unknown option \(flag)")
            }
        }
        guard let number = UInt16(port), let ip = try? IPAddress(host) else { usage("bad address \(host) port \(port)") }
        options.address = SocketAddress(ip: ip, port: number)
        return options
    }

    private static func usage(_ problem: String) -> Never {
        let text = "echo-server: \(problem)\nusage: echo-server --port 7000 [--host 127.0.0.1] [--backend io_uring|epoll]\n"
        _ = write(STDERR_FILENO, text, text.utf8.count)
        exit(2)
    }
}
