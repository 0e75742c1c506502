import Glibc
import RingPoll

// A single-threaded TCP echo server on one Poll.
let options = Options.parse(CommandLine.arguments)
let poll = try Poll(backend: options.backend)
let listener = try TCPListener.bind(options.address)
let stop = try StopSignal()
let listenerToken = Token(0), stopToken = Token(1)
try poll.registry.register(listener, token: listenerToken, interests: .readable)
try poll.registry.register(stop.receiver, token: stopToken, interests: .readable)

print("echo-server listening on \(try listener.localAddress()) (\(poll.backend))")
fflush(nil)  // stdout is a pipe when a test or script runs us: make the line visible now

var connections: [Token: Connection] = [:]
var nextToken = 2
var events = Events(capacity: 1024)
var buffer = [UInt8](repeating: 0, count: 64 * 1024)

serving: while true {
    do throws(Errno) {
        try poll.poll(&events, timeout: nil)
    } catch {
        if error == .interrupted { continue }  // a signal arrived; the stop pipe says which
        throw error
    }
    for event in events {
        switch event.token {
        case stopToken:
            break serving
        case listenerToken:
            // Edge-triggered: accept until the backlog is empty, or no event comes for the rest.
            while let (stream, _) = try? listener.accept() {
                try? stream.setNoDelay(true)
                let token = Token(nextToken)
                nextToken += 1
                try poll.registry.register(stream, token: token, interests: [.readable, .writable])
                connections[token] = Connection(stream)
            }
        default:
            if let connection = connections[event.token], !connection.serve(using: &buffer) {
                connections[event.token] = nil  // closing deregisters; the client sees EOF
            }
        }
    }
}
print("echo-server stopped")
