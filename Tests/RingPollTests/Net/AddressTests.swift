import Glibc
import Testing
@testable import RingPoll

@Suite struct NetIPAddressTests {
    @Test(arguments: ["127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3", "::1", "::", "fe80::1",
                      "2001:db8::8:800:200c:417a", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8"])
    func printsWhatItParses(text: String) throws {
        let address = try IPAddress(text)
        #expect(address.description == text)
        #expect(try IPAddress(address.description) == address)
    }

    @Test func printsIPv6InCanonicalForm() throws {
        #expect(try IPAddress("0:0:0:0:0:0:0:1").description == "::1")
        #expect(try IPAddress("2001:DB8:0:0:0:0:0:1").description == "2001:db8::1")
    }

    @Test(arguments: ["", " ", "127.0.0.1 ", " 127.0.0.1", "127.0.0", "127.1", "127.0.0.256", "1.2.3.4.5",
                      "01.2.3.4", "-1.2.3.4", "::1::", "[::1]", "::1%lo", "12345::", "localhost",
                      "g::1", "1:2:3:4:5:6:7:8:9", "127.0.0.1:80"])
    func rejectsBadText(text: String) {
        #expect(thrown { () throws(Errno) in try IPAddress(text) } == .invalidArgument)
    }

    @Test func rejectsEmbeddedNUL() {
        // inet_pton reads C strings: a NUL must not cut the text to a valid prefix.
        for text in ["1.2.3.4\u{0}", "127.0.0.1\u{0}junk", "::1\u{0}"] {
            #expect(thrown { () throws(Errno) in try IPAddress(text) } == .invalidArgument)
        }
        #expect(thrown { () throws(Errno) in try SocketAddress("127.0.0.1:80\u{0}") } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try SocketAddress("127.0.0.1\u{0}:80") } == .invalidArgument)
    }

    @Test func knowsItsKind() throws {
        #expect(!IPAddress.loopbackV4.isIPv6 && IPAddress.loopbackV4.isLoopback)
        #expect(IPAddress.loopbackV6.isIPv6 && IPAddress.loopbackV6.isLoopback)
        #expect(!IPAddress.anyV4.isLoopback && !IPAddress.anyV6.isLoopback)
        #expect(try IPAddress("127.255.0.9").isLoopback)
        #expect(try !IPAddress("128.0.0.1").isLoopback)
        #expect(try !IPAddress("::ffff:127.0.0.1").isLoopback)
        #expect(IPAddress.loopbackV4.description == "127.0.0.1")
        #expect(IPAddress.loopbackV6.description == "::1")
        #expect(IPAddress.anyV4.description == "0.0.0.0")
        #expect(IPAddress.anyV6.description == "::")
    }

    @Test func equalAddressesHashEqual() throws {
        let set: Set<IPAddress> = [try IPAddress("::1"), try IPAddress("0::1"), .loopbackV6, .loopbackV4]
        #expect(set.count == 2)
        #expect(try IPAddress("::ffff:127.0.0.1") != .loopbackV4)
    }
}

@Suite struct NetSocketAddressTests {
    @Test(arguments: ["127.0.0.1:80", "0.0.0.0:0", "255.255.255.255:65535", "[::1]:80", "[::]:0",
                      "[fe80::1]:8080", "[::ffff:10.0.0.1]:443"])
    func roundTrips(text: String) throws {
        let address = try SocketAddress(text)
        #expect(address.description == text)
        #expect(try SocketAddress(address.description) == address)
    }

    @Test func partsAreParsed() throws {
        let v4 = try SocketAddress("127.0.0.1:80")
        #expect(v4.ip == .loopbackV4 && v4.port == 80 && !v4.isIPv6 && v4.isLoopback)
        let v6 = try SocketAddress("[::1]:65535")
        #expect(v6.ip == .loopbackV6 && v6.port == 65535 && v6.isIPv6 && v6.isLoopback)
        #expect(SocketAddress(ip: .anyV6, port: 9).description == "[::]:9")
        #expect(SocketAddress(ip: .loopbackV4, port: 7) == v4.with(port: 7))
    }

    @Test(arguments: ["", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
                      "127.0.0.1:8a", "127.0.0.1:123456", "127.0.0.1: 80", "127.0.0.1:80 ", "::1:80", "[::1]",
                      "[::1]80", "[::1]:", "[127.0.0.1]:80", "[::1:80", "::1]:80", "[[::1]]:80", "localhost:80",
                      "[::1%1]:80", "1.2.3:80", "[]:80", ":80"])
    func rejectsBadText(text: String) {
        #expect(thrown { () throws(Errno) in try SocketAddress(text) } == .invalidArgument)
    }

    @Test func survivesTheKernel() throws {
        // What a socket reports as its address decodes to the value it was bound with.
        for text in ["127.0.0.1:0", "[::1]:0"] {
            let socket = try UDPSocket.bind(try SocketAddress(text))
            let local = try socket.localAddress()
            #expect(local.ip == (try SocketAddress(text)).ip)
            #expect(local.port != 0)
            #expect(try SocketAddress(local.description) == local)
        }
    }
}

@Suite struct NetUnixAddressTests {
    @Test func pathsAndNames() throws {
        let path = try UnixAddress(path: "/tmp/x.sock")
        #expect(path.path == "/tmp/x.sock" && path.abstractName == nil && !path.isUnnamed)
        #expect(path.description == "/tmp/x.sock")
        let abstract = try UnixAddress(abstract: "name")
        #expect(abstract.abstractName == "name" && abstract.path == nil && !abstract.isUnnamed)
        #expect(abstract.description == "@name")
        #expect(path != abstract)
        #expect(try UnixAddress(path: "/tmp/x.sock") == path)
        #expect(try UnixAddress(abstract: "name") == abstract)
        #expect(try UnixAddress(abstract: "/tmp/x.sock") != path)
    }

    @Test func pathLimitIsTheKernels() throws {
        // 107 bytes and the terminating NUL fill sun_path exactly.
        let longest = "/tmp/" + String(repeating: "a", count: 102)
        #expect(try UnixAddress(path: longest).path == longest)
        #expect(thrown { () throws(Errno) in try UnixAddress(path: longest + "a") } == .fileNameTooLong)
        #expect(thrown { () throws(Errno) in try UnixAddress(path: String(repeating: "b", count: 4096)) } == .fileNameTooLong)
        #expect(try UnixAddress(abstract: String(repeating: "c", count: 107)).abstractName?.count == 107)
        #expect(thrown { () throws(Errno) in try UnixAddress(abstract: String(repeating: "c", count: 108)) } == .fileNameTooLong)
    }

    @Test func rejectsPathsTheKernelWouldMisread() {
        #expect(thrown { () throws(Errno) in try UnixAddress(path: "") } == .invalidArgument)
        #expect(thrown { () throws(Errno) in try UnixAddress(path: "/tmp/a\0b") } == .invalidArgument)
    }

    @Test func survivesTheKernel() throws {
        let path = temporarySocketPath()
        defer { unlink(path) }
        let bound = try UnixDatagram.bind(try UnixAddress(path: path))
        #expect(try bound.localAddress() == (try UnixAddress(path: path)))
        #expect(try bound.localAddress().path == path)

        let name = temporaryAbstractName()
        let abstract = try UnixDatagram.bind(try UnixAddress(abstract: name))
        #expect(try abstract.localAddress() == (try UnixAddress(abstract: name)))
        #expect(try abstract.localAddress().abstractName == name)

        let (one, _) = try UnixStream.pair()
        let unnamed = try one.localAddress()
        #expect(unnamed.isUnnamed && unnamed.path == nil && unnamed.abstractName == nil)
        #expect(unnamed.description == "(unnamed)")
        #expect(try UnixDatagram.unbound().localAddress() == unnamed)
    }
}

extension SocketAddress {
    fileprivate func with(port: UInt16) -> SocketAddress { SocketAddress(ip: ip, port: port) }
}
