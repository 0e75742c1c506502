// Port of mio's tests/close_on_drop.rs (tokio-rs/mio v1.2.2, commit 50ee78de7497f10b941772a94625b9b6b61facba).
//
// The server accepts a connection and drops it at once; the client, registered with the same
// poll, must then read end of stream. On io_uring this needs the drop to cancel the armed poll
// that holds the file (the contract's close rule).
//
// Differences from mio: the event loop is bounded in time.

import Testing
@testable import RingPoll

@Suite("mio close_on_drop.rs") struct CloseOnDropConformanceTests {
    private static let server = Token(0)
    private static let client = Token(1)

    private enum State { case initial, afterRead }

    /// mio's `TestHandler`.
    private final class TestHandler {
        let server: TCPListener
        let client: TCPStream
        var state = State.initial
        var shutdown = false

        init(server: TCPListener, client: TCPStream) {
            self.server = server
            self.client = client
        }

        func handleRead(_ registry: Registry, _ token: Token) throws {
            switch token {
            case CloseOnDropConformanceTests.server:
                // Accept and drop at once.
                _ = try server.accept()
            case CloseOnDropConformanceTests.client:
                if state == .initial {
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = outcome { () throws(Errno) in try client.read(into: &buffer) }  // mio only logs it
                    state = .afterRead
                }
                var buffer = [UInt8](repeating: 0, count: 1024)
                switch outcome({ () throws(Errno) in try client.read(into: &buffer) }) {
                case .success(0): shutdown = true
                case .success: Issue.record("the client socket should not be readable")
                case .failure(let error): Issue.record("unexpected error \(error)")
                }
            default:
                Issue.record("received unknown token \(token)")
            }
            try registry.reregister(client, token: CloseOnDropConformanceTests.client, interests: .readable)
        }

        func handleWrite(_ registry: Registry, _ token: Token) throws {
            switch token {
            case CloseOnDropConformanceTests.server:
                Issue.record("received writable for token 0")
            case CloseOnDropConformanceTests.client:
                try registry.reregister(client, token: CloseOnDropConformanceTests.client, interests: .readable)
            default:
                Issue.record("received unknown token \(token)")
            }
        }
    }

    @Test("close_on_drop::close_on_drop", arguments: TestBackends.all)
    func closeOnDrop(backend: Backend) throws {
        let test = try MioPoll(backend, capacity: 1024)

        let server = try TCPListener.bind(Mio.anyLocalAddress)
        let address = try server.localAddress()
        try test.registry.register(server, token: Self.server, interests: .readable)

        let client = try TCPStream.connect(to: address)
        try test.registry.register(client, token: Self.client, interests: .writable)

        let handler = TestHandler(server: server, client: client)
        try test.eventLoop { event in
            if event.isReadable {
                try handler.handleRead(test.registry, event.token)
            }
            if event.isWritable {
                try handler.handleWrite(test.registry, event.token)
            }
            return handler.shutdown
        }
        #expect(handler.state == .afterRead)
    }
}
