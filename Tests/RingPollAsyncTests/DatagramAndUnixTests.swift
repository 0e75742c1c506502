import Glibc
import RingPoll
import RingPollAsync
import Testing

@Suite struct DatagramAndUnixTests {
    @Test(arguments: AsyncTestBackends.all)
    func udpRoundTrips(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let server = try AsyncUDPSocket.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let client = try AsyncUDPSocket.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let serverAddress = try server.localAddress()
            let echo = Task(executorPreference: executor) {
                var buffer = [UInt8](repeating: 0, count: 2048)
                for _ in 0..<100 {
                    let (count, sender) = try await server.receiveFrom(into: &buffer)
                    try await server.send(Array(buffer[..<count]), to: sender)
                }
            }
            try client.connect(to: serverAddress)
            var reply = [UInt8](repeating: 0, count: 2048)
            for round in 0..<100 {
                let message = Array("datagram \(round)".utf8)
                #expect(try await client.send(message) == message.count)
                let count = try await within(.seconds(30)) { [reply] in
                    var copy = reply
                    let count = try await client.receive(into: &copy)
                    return Array(copy[..<count])
                }
                #expect(count == message)
            }
            _ = reply
            reply = []
            try await within(.seconds(30)) { try await echo.value }
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func unixListenerAndStreams(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let address = try UnixAddress(abstract: "ringpoll-async-test-\(getpid())-\(backend)")
            let listener = try AsyncUnixListener.bind(address, on: executor)
            let server = Task(executorPreference: executor) {
                for try await connection in listener {
                    while true {
                        let bytes = try await readSome(connection)
                        if bytes.isEmpty { break }
                        try await connection.write(bytes.reversed())
                    }
                    return
                }
            }
            let client = try await AsyncUnixStream.connect(to: address, on: executor)
            try await client.write(Array("abc".utf8))
            #expect(try await within(.seconds(30)) { try await readSome(client) } == Array("cba".utf8))
            try client.shutdown(.write)
            try await within(.seconds(30)) { try await server.value }
            try listener.close()
        }
    }
}
