import Glibc
import RingPoll
import RingPollAsync
import Testing

@Suite struct EchoTests {
    @Test(arguments: AsyncTestBackends.all)
    func echoesOneConnection(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let address = try listener.localAddress()
            let server = Task(executorPreference: executor) {
                let (stream, _) = try await listener.accept()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = try await stream.read(into: &buffer)
                    if count == 0 { break }
                    try await stream.write(Array(buffer[..<count]))
                }
            }
            let client = try await AsyncTCPStream.connect(to: address, on: executor)
            var reply = [UInt8](repeating: 0, count: 64)
            for round in 0..<100 {
                let message = Array("round \(round)".utf8)
                try await client.write(message)
                var received: [UInt8] = []
                while received.count < message.count {
                    let count = try await client.read(into: &reply)
                    try #require(count > 0)
                    received += reply[..<count]
                }
                #expect(received == message)
            }
            try client.close()
            try await within(.seconds(30)) { try await server.value }
        }
    }
}
