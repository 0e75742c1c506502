import Glibc
import RingPoll
import RingPollAsync

// The echo server of Examples/EchoServer in async style: one task per connection, on a group
// of executors that each accept on a listener of their own (SO_REUSEPORT).
//
// The program is a function rather than top-level code: under AddressSanitizer, a temporary
// of async top-level code (the string of the first print) was still in the main task's frame
// when the process exited, and LeakSanitizer reported it; in a function it is freed on return.
func runServer() async throws {
    let options = Options.parse(CommandLine.arguments)
    let group = try PollExecutorGroup(threads: options.threads, backend: options.backend)
    let first = try AsyncTCPListener.bind(options.address, reusePort: true, on: group.executors[0])
    let address = try first.localAddress()  // the port the kernel chose, for the other listeners
    var listeners = [first]
    for executor in group.executors.dropFirst() {
        listeners.append(try AsyncTCPListener.bind(address, reusePort: true, on: executor))
    }
    let stop = try StopSignal(on: group.executors[0])

    print("async-echo-server listening on \(address) with \(options.threads) thread\(options.threads == 1 ? "" : "s") (\(group.executors[0].backend))")
    fflush(nil)  // stdout is a pipe when a test or script runs us: make the line visible now

    let servers = listeners.map { listener in
        Task(executorPreference: listener.executor) { await EchoService.serve(listener) }
    }
    await stop.wait()
    for listener in listeners { try? listener.close() }  // ends the accept loops
    await group.shutdownGracefully()                    // ends the connections' waits, joins the threads
    for server in servers { await server.value }
    print("async-echo-server stopped")
}

try await runServer()
