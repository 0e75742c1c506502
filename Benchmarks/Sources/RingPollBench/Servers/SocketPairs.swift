import Glibc

/// Connected Unix stream socketpairs (non-blocking, close-on-exec) as raw descriptors: idle
/// sockets for the idle-scale workload and the storm's registrations. Closed on deinit unless
/// handed over.
final class SocketPairs {
    private(set) var descriptors: [Int32] = []

    /// `count` descriptors (count / 2 pairs).
    init(descriptors count: Int) throws(BenchError) {
        descriptors.reserveCapacity(count)
        for _ in 0..<(count / 2) {
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                let code = errno
                closeAll()
                throw BenchError("socketpair (after \(descriptors.count) descriptors)", errno: code)
            }
            descriptors += pair
        }
    }

    /// Gives up ownership: the caller closes them.
    func handOver() -> [Int32] {
        defer { descriptors = [] }
        return descriptors
    }

    private func closeAll() {
        descriptors.forEach { close($0) }
        descriptors = []
    }

    deinit {
        closeAll()
    }
}
