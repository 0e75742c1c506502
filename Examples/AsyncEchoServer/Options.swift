import Glibc
import RingPoll

/// `async-echo-server --port 7000 [--host 127.0.0.1] [--backend io_uring|epoll] [--threads 1]`
struct Options {
    var address = SocketAddress(ip: .loopbackV4, port: 7000)
    var backend = Backend.automatic
    var threads = 1

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
            case "--threads":
                guard let count = Int(value), (1...256).contains(count) else { usage("bad thread count \(value)") }
                options.threads = count
            default: usage("unknown option \(flag)")
            }
        }
        guard let number = UInt16(port), let ip = try? IPAddress(host) else { usage("bad address \(host) port \(port)") }
        options.address = SocketAddress(ip: ip, port: number)
        return options
    }

    private static func usage(_ problem: String) -> Never {
        let text = "async-echo-server: \(problem)\nusage: async-echo-server --port 7000 [--host 127.0.0.1] [--backend io_uring|epoll] [--threads 1]\n"
        _ = write(STDERR_FILENO, text, text.utf8.count)
        exit(2)
    }
}
