import CTestSupport
import Glibc
import Synchronization
import Testing
@testable import EchoServer
@testable import RingPoll

/// The shipped example's server code (Examples/EchoServer, imported as a module) serving a steady
/// echo on a thread of its own, with the malloc counter watching that thread: once every
/// connection is up and has echoed, round trips cost no allocation at all.
@Suite(.enabled(if: MallocCounter.isUsable, "a sanitizer owns malloc in this build: the malloc counter is compiled out"))
struct EchoServerAllocationTests {
    @Test(arguments: TestBackends.all)
    func steadyEchoAllocatesNothing(backend: Backend) throws {
        #expect(rp_malloc_counter_is_active() == 1, "malloc is not interposed: the count below would prove nothing")
        let (stopSender, stopReceiver) = try makePipe()
        let started = Mutex<(port: UInt16, thread: pthread_t)?>(nil)
        let server = TestThread { () -> String? in
            do {
                let poll = try Poll(backend: backend)
                let listener = try TCPListener.bind(SocketAddress("127.0.0.1:0"))
                var server = try EchoServer(poll: poll, listener: listener, stop: stopReceiver)
                let port = try listener.localAddress().port
                started.withLock { $0 = (port, pthread_self()) }
                try server.run()
                return nil
            } catch {
                return "\(error)"
            }
        }
        defer {
            _ = try? stopSender.write([1])
            #expect(server.join() == nil)
        }
        guard waitUntil({ started.withLock { $0 != nil } }), let (port, thread) = started.withLock({ $0 }) else {
            Issue.record("the server did not start: \(server.join() ?? "")")
            return
        }

        let clients = try (0..<100).map { _ in try BlockingEchoClient(port: port) }
        for _ in 0..<20 { try echoOnce(clients) }  // connections accepted, registered, armed
        rp_malloc_counter_watch(thread)
        for _ in 0..<100 { try echoOnce(clients) }  // 10,000 round trips
        let allocations = rp_malloc_counter_watched()
        rp_malloc_counter_unwatch()
        #expect(allocations == 0, "the server allocated \(allocations) times in 10,000 round trips")
    }

    /// One round: every client sends 64 bytes, then every client reads its echo back.
    private func echoOnce(_ clients: [BlockingEchoClient]) throws {
        for client in clients { try client.send() }
        for client in clients { try client.receiveEcho() }
    }
}

/// A client on a plain blocking socket with a receive timeout, so a lost echo fails the test
/// instead of hanging it.
private final class BlockingEchoClient {
    private let fd: CInt
    private var round: UInt8 = 0
    private var message = [UInt8](repeating: 0, count: 64)

    init(port: UInt16) throws {
        fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: CInt = 1
        setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            // A signal another test sends may interrupt the connect; it then completes on its own.
            guard errno == EINTR else { throw Errno(rawValue: errno) }
            var probe = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            while Glibc.poll(&probe, 1, 5_000) < 0 && errno == EINTR {}
        }
    }

    deinit { close(fd) }

    func send() throws {
        round &+= 1
        for index in message.indices { message[index] = round &+ UInt8(truncatingIfNeeded: index) }
        var sent = Glibc.send(fd, message, message.count, CInt(MSG_NOSIGNAL))
        while sent < 0 && errno == EINTR { sent = Glibc.send(fd, message, message.count, CInt(MSG_NOSIGNAL)) }
        guard sent == message.count else { throw Errno(rawValue: errno) }
    }

    func receiveEcho() throws {
        var echo = [UInt8](repeating: 0, count: 64)
        var received = 0
        while received < echo.count {
            let count = echo.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, $0.count - received, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw count == 0 ? Errno.connectionReset : Errno(rawValue: errno) }
            received += count
        }
        #expect(echo == message)
    }
}
