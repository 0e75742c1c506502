// A broadcast chat server on RingPoll's classic EventLoop.
//
//     swift run chat-server --port 7001        then, in other terminals:  nc 127.0.0.1 7001
//
// Every line a client sends goes to every other client, prefixed with its name. The loop tells
// the handler about new connections (`listen`), readable and writable clients (`ready`), and a
// message from another thread (`notify`): a signal watcher thread sends one on SIGINT/SIGTERM,
// and the server says goodbye to everyone and stops.
import Glibc
import RingPoll

/// What other threads tell the server.
enum Command: Sendable {
    case stop(signal: CInt)
}

/// One connected client: its socket, a partial input line, and output not yet accepted by the
/// kernel (kept until the next writable event, as edge-triggered writes require).
final class Client {
    let stream: TCPStream
    let name: String
    var input: [UInt8] = []
    var output: [UInt8] = []
    /// Why the client must go, once it must; it is dropped at the end of the callback, so that
    /// a broadcast never changes the client list it is walking.
    var failure: String?

    init(stream: TCPStream, name: String) {
        self.stream = stream
        self.name = name
    }
}

struct ChatServer: EventHandler {
    typealias Message = Command

    static let listenerToken = Token(0)
    /// Longest line accepted; longer ones are cut, so one client cannot grow our memory.
    static let maximumLine = 4096
    /// Output a client may leave unread before it is dropped as too slow.
    static let maximumBacklog = 1 << 20

    let listener: TCPListener
    var clients: [Token: Client] = [:]
    var nextToken = 1
    var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    var stoppedBy: CInt?

    mutating func ready(_ loop: EventLoop<ChatServer>, token: Token, event: Event) {
        if token == Self.listenerToken {
            acceptClients(loop)
        } else if let client = clients[token] {
            // The read hint tells a reset apart from a polite close: after a reset no read can
            // find data, so do not try.
            if event.readHint == .error {
                client.failure = "connection reset"
            } else {
                if event.isReadable { receive(from: client, token: token) }
                if event.isWritable { flush(client) }
            }
        }
        dropFailedClients()
    }

    mutating func notify(_ loop: EventLoop<ChatServer>, message: Command) {
        switch message {
        case .stop(let signal):
            stoppedBy = signal
            broadcast("* server shutting down\n", except: nil)
            loop.shutdown()
        }
    }

    // MARK: Connections

    private mutating func acceptClients(_ loop: EventLoop<ChatServer>) {
        while true {
            let stream: TCPStream
            let address: SocketAddress
            switch accept() {
            case .accepted(let newStream, let newAddress): (stream, address) = (newStream, newAddress)
            case .wouldBlock: return
            case .failed(let error):
                say("chat-server: accept failed: \(error)")
                return
            }
            let token = Token(nextToken)
            nextToken += 1
            let client = Client(stream: stream, name: "client\(token.rawValue)")
            do throws(Errno) {
                // Readable and writable from the start: with edge triggers, a writable event then
                // comes whenever a full send buffer drains.
                try loop.registry.register(stream, token: token, interests: [.readable, .writable])
            } catch {
                say("chat-server: cannot register \(address): \(error)")
                continue
            }
            clients[token] = client
            say("chat-server: \(client.name) connected from \(address)")
            send("* welcome, you are \(client.name) (\(clients.count) online)\n", to: client)
            broadcast("* \(client.name) joined\n", except: token)
        }
    }

    private enum AcceptResult {
        case accepted(TCPStream, SocketAddress)
        case wouldBlock
        case failed(Errno)
    }

    private func accept() -> AcceptResult {
        do throws(Errno) {
            let (stream, address) = try listener.accept()
            return .accepted(stream, address)
        } catch {
            return error == .wouldBlock ? .wouldBlock : .failed(error)
        }
    }

    /// Closes failed clients and tells the others; repeated, as telling may fail more clients.
    private mutating func dropFailedClients() {
        while let (token, client) = clients.first(where: { $0.value.failure != nil }) {
            clients[token] = nil
            try? client.stream.close()  // also deregisters it
            say("chat-server: \(client.name) left (\(client.failure!))")
            broadcast("* \(client.name) left\n", except: nil)
        }
    }

    // MARK: Reading

    /// Reads until the socket would block (edge trigger), broadcasting every complete line.
    private mutating func receive(from client: Client, token: Token) {
        while client.failure == nil {
            switch readChunk(client.stream) {
            case .data(let count):
                client.input.append(contentsOf: readBuffer[..<count])
                for line in takeLines(from: client) {
                    broadcast("\(client.name): \(line)\n", except: token)
                }
            case .wouldBlock:
                return
            case .endOfStream:
                client.failure = "closed"
            case .failed(let error):
                client.failure = "\(error)"
            }
        }
    }

    private enum ReadResult {
        case data(Int)
        case wouldBlock
        case endOfStream
        case failed(Errno)
    }

    private mutating func readChunk(_ stream: TCPStream) -> ReadResult {
        do throws(Errno) {
            let count = try stream.read(into: &readBuffer)
            return count == 0 ? .endOfStream : .data(count)
        } catch {
            return error == .wouldBlock ? .wouldBlock : .failed(error)
        }
    }

    /// The complete lines in the client's input, without their line ends.
    private func takeLines(from client: Client) -> [String] {
        var lines: [String] = []
        while let end = client.input.firstIndex(of: UInt8(ascii: "\n")) {
            var line = client.input[..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lines.append(String(decoding: line.prefix(Self.maximumLine), as: UTF8.self))
            client.input.removeSubrange(...end)
        }
        if client.input.count > Self.maximumLine {  // a line without end: cut it here
            lines.append(String(decoding: client.input.prefix(Self.maximumLine), as: UTF8.self))
            client.input.removeAll()
        }
        return lines
    }

    // MARK: Writing

    private func broadcast(_ text: String, except sender: Token?) {
        for (token, client) in clients where token != sender {
            send(text, to: client)
        }
    }

    private func send(_ text: String, to client: Client) {
        guard client.failure == nil else { return }
        client.output.append(contentsOf: text.utf8)
        if client.output.count > Self.maximumBacklog {
            client.failure = "too slow"
        } else {
            flush(client)
        }
    }

    /// Writes queued output until the socket would block; the next writable event continues.
    private func flush(_ client: Client) {
        while !client.output.isEmpty && client.failure == nil {
            switch writeChunk(client) {
            case .wrote(let count): client.output.removeFirst(count)
            case .wouldBlock: return
            case .failed(let error): client.failure = "\(error)"
            }
        }
    }

    private enum WriteResult {
        case wrote(Int)
        case wouldBlock
        case failed(Errno)
    }

    private func writeChunk(_ client: Client) -> WriteResult {
        do throws(Errno) {
            return .wrote(try client.stream.write(client.output))
        } catch {
            return error == .wouldBlock ? .wouldBlock : .failed(error)
        }
    }
}

// MARK: Signals

/// Waits for SIGINT/SIGTERM on a thread of its own and forwards them to the loop through its
/// channel: the loop cannot be stopped from a signal handler (nothing there may take a lock).
final class SignalWatcher: Sendable {
    let sender: EventLoopSender<Command>

    init(sender: EventLoopSender<Command>) {
        self.sender = sender
    }

    /// Blocks the signals in this thread (threads created later inherit the mask), then starts
    /// the watching thread.
    func start() {
        var signals = SignalWatcher.signals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        precondition(pthread_create(&thread, nil, signalWatcherMain, context) == 0)
        pthread_detach(thread)
    }

    func watch() {
        var signals = SignalWatcher.signals
        var signal: CInt = 0
        while sigwait(&signals, &signal) != 0 {}
        try? sender.send(.stop(signal: signal))
    }

    static var signals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        return set
    }
}

private func signalWatcherMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<SignalWatcher>.fromOpaque(context!).takeRetainedValue().watch()
    return nil
}

/// Writes one line to standard output at once (unbuffered), so that a program reading this
/// one through a pipe sees every line as it happens.
func say(_ line: String) {
    var bytes = Array((line + "\n").utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        bytes = bytes.dropFirst(written)
    }
}

// MARK: Main

func usage() -> Never {
    say("usage: chat-server [--host ADDRESS] [--port PORT]   (defaults: 127.0.0.1, 7001; port 0 picks one)")
    exit(2)
}

var host = "127.0.0.1"
var port: UInt16 = 7001
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--host": host = arguments.popFirst() ?? { usage() }()
    case "--port": port = arguments.popFirst().flatMap(UInt16.init) ?? { usage() }()
    default: usage()
    }
}

do throws(Errno) {
    let loop = try EventLoop<ChatServer>()
    let listener = try TCPListener.bind(SocketAddress(ip: IPAddress(host), port: port))
    try loop.listen(listener, token: ChatServer.listenerToken)
    SignalWatcher(sender: loop.channel()).start()
    say("chat-server listening on \(try listener.localAddress()) (\(loop.backend)); Ctrl-C stops it")

    var server = ChatServer(listener: listener)
    try loop.run(&server)
    say("chat-server: stopped by signal \(server.stoppedBy ?? 0), \(server.clients.count) clients disconnected")
} catch {
    say("chat-server: \(error)")
    exit(1)
}
