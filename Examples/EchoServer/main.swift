import Glibc
import RingPoll

// echo-server: a single-threaded TCP echo server on one Poll (see EchoServer.swift).
let options = Options.parse(CommandLine.arguments)
let poll = try Poll(backend: options.backend)
let listener = try TCPListener.bind(options.address)
let stop = try StopSignal()
var server = try EchoServer(poll: poll, listener: listener, stop: stop.receiver)

print("echo-server listening on \(try listener.localAddress()) (\(poll.backend))")
fflush(nil)  // stdout is a pipe when a test or script runs us: make the line visible now

try server.run()
print("echo-server stopped")
