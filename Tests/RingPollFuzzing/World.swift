import CLiburing
import Glibc
@_spi(Tuning) import RingPoll

/// What one read or write did.
enum IOResult: Equatable {
    case bytes(Int)
    case wouldBlock
    case endOfStream
    case failed(Errno)
}

/// One end of a resource: a raw descriptor or a RingPoll object.
enum Endpoint {
    case closed
    case raw(CInt, eventFD: Bool)
    case unix(UnixStream)
    case tcp(TCPStream)
    case pipeIn(PipeReceiver)
    case pipeOut(PipeSender)

    var number: CInt? {
        switch self {
        case .closed: nil
        case .raw(let fd, _): fd
        case .unix(let stream): stream.fileDescriptor
        case .tcp(let stream): stream.fileDescriptor
        case .pipeIn(let receiver): receiver.fileDescriptor
        case .pipeOut(let sender): sender.fileDescriptor
        }
    }

    var isOpen: Bool { if case .closed = self { false } else { true } }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        switch self {
        case .closed, .pipeOut: return .failed(.badFileDescriptor)
        case .raw(let fd, let eventFD):
            let count = Glibc.read(fd, buffer.baseAddress, eventFD ? 8 : buffer.count)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .endOfStream }
            return errno == EAGAIN ? .wouldBlock : .failed(Errno(rawValue: errno))
        case .unix(let stream): return Endpoint.outcome { () throws(Errno) in try stream.read(into: buffer) }
        case .tcp(let stream): return Endpoint.outcome { () throws(Errno) in try stream.read(into: buffer) }
        case .pipeIn(let receiver): return Endpoint.outcome { () throws(Errno) in try receiver.read(into: buffer) }
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer) -> IOResult {
        switch self {
        case .closed, .pipeIn: return .failed(.badFileDescriptor)
        case .raw(let fd, let eventFD):
            var one: UInt64 = 1
            let count = eventFD ? Glibc.write(fd, &one, 8) : rp_write_nosigpipe(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return .bytes(count) }
            return errno == EAGAIN ? .wouldBlock : .failed(Errno(rawValue: errno))
        case .unix(let stream): return Endpoint.outcome { () throws(Errno) in try stream.write(buffer) }
        case .tcp(let stream): return Endpoint.outcome { () throws(Errno) in try stream.write(buffer) }
        case .pipeOut(let sender): return Endpoint.outcome { () throws(Errno) in try sender.write(buffer) }
        }
    }

    func shutdown(_ how: Shutdown) -> Errno? {
        switch self {
        case .raw(let fd, false):
            let value: CInt = switch how {
            case .read: CInt(SHUT_RD)
            case .write: CInt(SHUT_WR)
            case .both: CInt(SHUT_RDWR)
            }
            return Glibc.shutdown(fd, value) == 0 ? nil : Errno(rawValue: errno)
        case .unix(let stream): return Endpoint.failure { () throws(Errno) in try stream.shutdown(how) }
        case .tcp(let stream): return Endpoint.failure { () throws(Errno) in try stream.shutdown(how) }
        default: return .notSupported
        }
    }

    /// Closes this end; `reset` first sets SO_LINGER 0, so that a TCP close sends RST.
    mutating func close(reset: Bool) {
        if reset, let fd = number {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        switch self {
        case .closed: break
        case .raw(let fd, _): Glibc.close(fd)
        case .unix(let stream): try? stream.close()
        case .tcp(let stream): try? stream.close()
        case .pipeIn(let receiver): try? receiver.close()
        case .pipeOut(let sender): try? sender.close()
        }
        self = .closed  // RingPoll objects are released here: their deinit frees the number
    }

    private static func outcome(_ body: () throws(Errno) -> Int) -> IOResult {
        do throws(Errno) {
            let count = try body()
            return count == 0 ? .endOfStream : .bytes(count)
        } catch {
            return error == .wouldBlock ? .wouldBlock : .failed(error)
        }
    }

    private static func failure(_ body: () throws(Errno) -> Void) -> Errno? {
        do throws(Errno) { try body(); return nil } catch { return error }
    }
}

/// Facts about a resource that make closure flags legitimate; they only ever become true.
struct ClosureFacts {
    var localShutRead = false
    var localShutWrite = false
    var peerShutRead = false
    var peerShutWrite = false
    var peerClosed = false
    var reset = false

    /// A read-closed flag on the local end can be true.
    var readClosed: Bool { localShutRead || peerShutWrite || peerClosed || reset }
    /// A write-closed flag (hang-up or error) on the local end can be true.
    var writeClosed: Bool { reset || peerClosed || (readClosed && (localShutWrite || peerShutRead)) }
}

/// A pair of descriptors the fuzzer drives: the local end (registered) and its peer.
final class Resource {
    let serial: Int
    let kind: ResourceKind
    var local: Endpoint
    var peer: Endpoint
    /// The number the local end was given; still meaningful (a stale number) once it is closed.
    var localNumber: CInt
    /// The operation that last touched either end.
    var lastActivity: Int
    var facts = ClosureFacts()
    /// Owned kinds: registered through the object.
    var ownedRegistered = false

    init(serial: Int, kind: ResourceKind, local: Endpoint, peer: Endpoint, at operation: Int) {
        self.serial = serial
        self.kind = kind
        self.local = local
        self.peer = peer
        localNumber = local.number ?? -1
        lastActivity = operation
    }
}

/// The fuzzer's descriptors, in a fixed number of slots.
final class World {
    var slots: [Resource?]
    private var nextSerial = 1
    private let listener: CInt
    private let port: UInt16

    init(slots: Int) throws(Errno) {
        self.slots = Array(repeating: nil, count: slots)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1024) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let error = Errno(rawValue: errno)
            Glibc.close(fd)
            throw error
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        for index in slots.indices { release(index) }
        Glibc.close(listener)
    }

    /// Closes both ends of the slot's resource and forgets it.
    func release(_ slot: Int) {
        slots[slot]?.local.close(reset: false)
        slots[slot]?.peer.close(reset: false)
        slots[slot] = nil
    }

    /// The resource whose open local end is `number`, if the fuzzer made it.
    func localOwner(of number: CInt) -> Resource? {
        slots.first { $0?.local.number == number }.flatMap { $0 }
    }

    /// Whether `number` is one of the fuzzer's open descriptors (either end).
    func isFuzzerDescriptor(_ number: CInt) -> Bool {
        slots.contains { $0?.local.number == number || $0?.peer.number == number }
    }

    func make(_ kind: ResourceKind, at operation: Int) throws(Errno) -> Resource {
        let (local, peer) = try endpoints(kind)
        defer { nextSerial += 1 }
        return Resource(serial: nextSerial, kind: kind, local: local, peer: peer, at: operation)
    }

    private func endpoints(_ kind: ResourceKind) throws(Errno) -> (Endpoint, Endpoint) {
        switch kind {
        case .unixStream:
            var fds: [CInt] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                throw Errno(rawValue: errno)
            }
            return (.raw(fds[0], eventFD: false), .raw(fds[1], eventFD: false))
        case .pipeRead, .pipeWrite:
            var fds: [CInt] = [-1, -1]
            guard rp_pipe2(&fds) == 0 else { throw Errno(rawValue: errno) }
            let reader = Endpoint.raw(fds[0], eventFD: false), writer = Endpoint.raw(fds[1], eventFD: false)
            return kind == .pipeRead ? (reader, writer) : (writer, reader)
        case .eventfd:
            let fd = rp_eventfd()
            guard fd >= 0 else { throw Errno(rawValue: -fd) }
            return (.raw(fd, eventFD: true), .closed)
        case .tcp:
            let (client, server) = try tcpPair()
            return (.raw(server, eventFD: false), .raw(client, eventFD: false))
        case .ownedUnix:
            let (one, two) = try UnixStream.pair()
            return (.unix(one), .unix(two))
        case .ownedPipe:
            let (sender, receiver) = try makePipe()
            return (.pipeIn(receiver), .pipeOut(sender))
        case .ownedTCP:
            let (client, server) = try tcpPair()
            let peer: TCPStream
            do throws(Errno) {
                peer = try TCPStream(adopting: client)  // closes the client itself when it fails
            } catch {
                Glibc.close(server)
                throw error
            }
            return (.tcp(try TCPStream(adopting: server)), .tcp(peer))
        }
    }

    /// A connected loopback pair (client, accepted server), both non-blocking.
    private func tcpPair() throws(Errno) -> (CInt, CInt) {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard client >= 0 else { throw Errno(rawValue: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 || errno == EINPROGRESS else {
            let error = Errno(rawValue: errno)
            Glibc.close(client)
            throw error
        }
        var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        _ = Glibc.poll(&waiting, 1, 2_000)
        let server = rp_accept4(listener, nil, nil)
        guard server >= 0 else {
            let error = Errno(rawValue: errno)
            Glibc.close(client)
            throw error
        }
        var writable = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
        _ = Glibc.poll(&writable, 1, 2_000)
        return (client, server)
    }
}

/// The kernel's view of a descriptor right now (poll(2) with a zero timeout).
enum Oracle {
    static let readHangUp: UInt32 = 0x2000

    /// The poll bits of `fd` (IN, PRI, OUT, RDHUP asked for; ERR and HUP always), or nil when
    /// the number is not open.
    static func readiness(_ fd: CInt) -> UInt32? {
        var probe = pollfd(fd: fd, events: Int16(POLLIN | POLLPRI | POLLOUT) | Int16(bitPattern: UInt16(readHangUp)), revents: 0)
        guard Glibc.poll(&probe, 1, 0) >= 0 else { return nil }
        let bits = UInt32(UInt16(bitPattern: probe.revents))
        return bits & UInt32(POLLNVAL) != 0 ? nil : bits
    }

    static func isOpen(_ fd: CInt) -> Bool {
        fd >= 0 && fcntl(fd, F_GETFD) >= 0
    }
}
