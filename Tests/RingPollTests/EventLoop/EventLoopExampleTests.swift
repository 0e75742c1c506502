import Glibc
import Testing
@testable import RingPoll

/// The two EventLoop examples, run as real processes on each backend: the chat server talked
/// to over loopback and stopped with SIGTERM, the timer demo run to completion and stopped
/// with SIGINT.
@Suite struct EventLoopExampleTests {
    /// Three clients: welcomes, joins, a line broadcast to the others but not echoed to its
    /// sender, a line split over two writes, a departure, and a clean stop on SIGTERM that tells
    /// every client and closes their connections.
    @Test(arguments: TestBackends.all)
    func chatServerBroadcasts(backend: Backend) throws {
        let server = try ExampleProcess("chat-server", ["--port", "0"], backend: backend)
        let banner = server.line(containing: "listening on ")
        try #require(banner != nil, "no banner: \(server.transcript)")
        #expect(banner!.contains("(\(backend))"), "\(banner!)")
        let addressText = banner!.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }
        let address = try SocketAddress(String(try #require(addressText)))

        let alice = try LoopLineClient(connectingTo: address)
        #expect(alice.nextLine() == "* welcome, you are client1 (1 online)")
        let bob = try LoopLineClient(connectingTo: address)
        #expect(bob.nextLine() == "* welcome, you are client2 (2 online)")
        let carol = try LoopLineClient(connectingTo: address)
        #expect(carol.nextLine() == "* welcome, you are client3 (3 online)")
        #expect(alice.nextLine() == "* client2 joined")
        #expect(alice.nextLine() == "* client3 joined")
        #expect(bob.nextLine() == "* client3 joined")

        try alice.send("hello, everyone\r\n")
        #expect(bob.nextLine() == "client1: hello, everyone")
        #expect(carol.nextLine() == "client1: hello, everyone")
        try bob.send("split ")
        try bob.send("line\n")
        #expect(carol.nextLine() == "client2: split line")
        // Alice's next line is Bob's, not an echo of her own.
        #expect(alice.nextLine() == "client2: split line")

        try carol.stream.close()
        #expect(alice.nextLine() == "* client3 left")
        #expect(bob.nextLine() == "* client3 left")

        server.signal(SIGTERM)
        for client in [alice, bob] {
            var remaining: [String] = []
            #expect(client.waitForEnd(remaining: &remaining), "the server did not close the connection")
            #expect(remaining == ["* server shutting down"])
        }
        #expect(server.waitForExit() == 0, "\(server.transcript)")
        #expect(server.transcript.last?.hasPrefix("chat-server: stopped by signal \(SIGTERM)") == true, "\(server.transcript)")
    }

    /// A client that resets its connection (SO_LINGER 0) is dropped, and the others hear of it.
    @Test(arguments: TestBackends.all)
    func chatServerDropsAResetClient(backend: Backend) throws {
        let server = try ExampleProcess("chat-server", ["--port", "0"], backend: backend)
        let banner = try #require(server.line(containing: "listening on "))
        let address = try SocketAddress(String(try #require(banner.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") })))
        let alice = try LoopLineClient(connectingTo: address)
        #expect(alice.nextLine()?.hasPrefix("* welcome") == true)
        let mallory = try LoopLineClient(connectingTo: address)
        #expect(mallory.nextLine()?.hasPrefix("* welcome") == true)
        #expect(alice.nextLine() == "* client2 joined")
        LoopTestSupport.setLingerZero(mallory.stream.fileDescriptor)
        try mallory.stream.close()
        #expect(alice.nextLine() == "* client2 left")
        #expect(server.line(containing: "client2 left") != nil, "\(server.transcript)")
        server.signal(SIGINT)
        #expect(server.waitForExit() == 0, "\(server.transcript)")
    }

    /// Runs to its count: every beat in order, none early, the cleared timer never fires, and
    /// clearing a fired timer says false.
    @Test(arguments: TestBackends.all)
    func timerDemoRunsToCompletion(backend: Backend) throws {
        let demo = try ExampleProcess("timer-demo", ["--interval", "20", "--count", "5"], backend: backend)
        let status = demo.waitForExit()
        let lines = demo.transcript
        #expect(status == 0, "\(lines)")
        #expect(lines.first?.contains("(\(backend))") == true, "\(lines)")
        #expect(lines.contains("clearing a pending timer: true"))
        #expect(lines.contains("clearing beat 1 again after it fired: false"))
        let beats = lines.filter { $0.hasPrefix("beat ") }
        #expect(beats.map { $0.split(separator: " ")[1] } == ["1", "2", "3", "4", "5"], "\(lines)")
        #expect(beats.allSatisfy { !$0.contains("late by -") }, "a beat came early: \(beats)")
        #expect(!lines.contains { $0.contains("must not happen") })
        #expect(lines.last?.hasPrefix("done: 5 beats") == true, "\(lines)")
    }

    /// Runs until stopped: SIGINT ends it cleanly through the self-pipe the loop watches.
    @Test(arguments: TestBackends.all)
    func timerDemoStopsOnSignal(backend: Backend) throws {
        let demo = try ExampleProcess("timer-demo", ["--interval", "30", "--count", "0"], backend: backend)
        #expect(demo.line(containing: "beat 2 ") != nil, "\(demo.transcript)")
        demo.signal(SIGINT)
        #expect(demo.waitForExit() == 0, "\(demo.transcript)")
        #expect(demo.transcript.last?.hasPrefix("stopped by signal \(SIGINT)") == true, "\(demo.transcript)")
    }
}
