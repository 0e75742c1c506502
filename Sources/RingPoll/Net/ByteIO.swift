import CLiburing
import Glibc

/// The data-moving system calls behind every socket and pipe type.
///
/// Rules they share:
/// - A closed descriptor throws `Errno.badFileDescriptor` before anything else is looked at.
/// - Reading, peeking or receiving into an empty buffer throws `Errno.invalidArgument`: a result
///   of 0 is reserved for end of stream (or an empty datagram), and a datagram received into no
///   room would be silently discarded.
/// - Writing an empty buffer is passed to the kernel: a stream write returns 0, a datagram send
///   sends an empty datagram (both are meaningful).
/// - Writes on sockets pass `MSG_NOSIGNAL` and pipe writes block SIGPIPE around the call, so a
///   vanished reader is `Errno.brokenPipe`, never a signal that ends the process.
/// - Nothing here allocates: no escaping closures, no existentials, typed errors only.
extension OwnedDescriptor {
    /// Repeats `call` while a signal interrupts it; -1 with errno becomes a thrown `Errno`.
    @inline(__always)
    static func retrying<Result: BinaryInteger>(_ call: () -> Result) throws(Errno) -> Result {
        while true {
            let result = call()
            if result >= 0 { return result }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }

    // MARK: Single buffers

    /// read(2): for pipes, and for stream sockets where no flag is needed.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try withDescriptor { descriptor throws(Errno) in
            guard let base = buffer.baseAddress, buffer.count > 0 else { throw .invalidArgument }
            return try Self.retrying { Glibc.read(descriptor, base, buffer.count) }
        }
    }

    /// recv(2), for `MSG_PEEK`.
    func receive(into buffer: UnsafeMutableRawBufferPointer, flags: CInt) throws(Errno) -> Int {
        try withDescriptor { descriptor throws(Errno) in
            guard let base = buffer.baseAddress, buffer.count > 0 else { throw .invalidArgument }
            return try Self.retrying { recv(descriptor, base, buffer.count, flags) }
        }
    }

    /// recvfrom(2): the data and who sent it.
    func receive<Address: NativeAddress>(
        into buffer: UnsafeMutableRawBufferPointer, flags: CInt, from _: Address.Type
    ) throws(Errno) -> (count: Int, address: Address) {
        try withDescriptor { descriptor throws(Errno) in
            guard let base = buffer.baseAddress, buffer.count > 0 else { throw .invalidArgument }
            let (count, address) = try Address.receiving { native, length throws(Errno) in
                try Self.retrying { recvfrom(descriptor, base, buffer.count, flags, native, length) }
            }
            return (count, address)
        }
    }

    /// send(2) with `MSG_NOSIGNAL`, on a connected socket.
    func send(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try systemCall { Glibc.send($0, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL)) }
    }

    /// sendto(2) with `MSG_NOSIGNAL`: one datagram to `address`.
    func send(_ buffer: UnsafeRawBufferPointer, to address: some NativeAddress) throws(Errno) -> Int {
        try withDescriptor { descriptor throws(Errno) in
            try address.withNative { native, length throws(Errno) in
                try Self.retrying {
                    sendto(descriptor, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL), native, length)
                }
            }
        }
    }

    /// write(2) on a pipe, without SIGPIPE.
    func pipeWrite(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try systemCall { rp_write_nosigpipe($0, buffer.baseAddress, buffer.count) }
    }

    // MARK: Vectored

    /// readv(2). Buffers past Linux's limit of 1024 are left for the next call, as a short read.
    func read(into buffers: [UnsafeMutableRawBufferPointer]) throws(Errno) -> Int {
        try withDescriptor { descriptor throws(Errno) in
            try Self.withIOVectors(buffers) { vectors, count, total throws(Errno) in
                guard total > 0 else { throw .invalidArgument }
                return try Self.retrying { readv(descriptor, vectors, count) }
            }
        }
    }

    /// sendmsg(2) with `MSG_NOSIGNAL`: a vectored write on a socket.
    func send(_ buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        try withDescriptor { descriptor throws(Errno) in
            try Self.withIOVectors(buffers) { vectors, count, _ throws(Errno) in
                var message = msghdr()
                message.msg_iov = vectors
                message.msg_iovlen = Int(count)
                return try Self.retrying { sendmsg(descriptor, &message, CInt(MSG_NOSIGNAL)) }
            }
        }
    }

    /// writev(2) on a pipe, without SIGPIPE.
    func pipeWrite(_ buffers: [UnsafeRawBufferPointer]) throws(Errno) -> Int {
        try withDescriptor { descriptor throws(Errno) in
            try Self.withIOVectors(buffers) { vectors, count, _ throws(Errno) in
                try Self.retrying { rp_writev_nosigpipe(descriptor, vectors, count) }
            }
        }
    }

    /// Lays `buffers` out as `iovec`s in temporary storage (on the stack for up to 64 buffers)
    /// and passes them with their count and total byte size.
    @inline(__always)
    static func withIOVectors<Buffer: IOVectorBuffer, Result>(
        _ buffers: [Buffer],
        _ body: (UnsafeMutablePointer<iovec>, CInt, Int) throws(Errno) -> Result
    ) throws(Errno) -> Result {
        let count = min(buffers.count, Int(RP_IOV_MAX))
        return try withUnsafeTemporaryAllocation(of: iovec.self, capacity: max(count, 1)) { vectors throws(Errno) in
            var total = 0
            for index in 0..<count {
                vectors[index] = buffers[index].ioVector
                total += buffers[index].ioVector.iov_len
            }
            return try body(vectors.baseAddress!, CInt(count), total)
        }
    }
}

/// A buffer that can stand in an `iovec` array: raw buffers, mutable or not.
protocol IOVectorBuffer {
    var ioVector: iovec { get }
}

extension UnsafeRawBufferPointer: IOVectorBuffer {
    var ioVector: iovec { iovec(iov_base: UnsafeMutableRawPointer(mutating: baseAddress), iov_len: count) }
}

extension UnsafeMutableRawBufferPointer: IOVectorBuffer {
    var ioVector: iovec { iovec(iov_base: baseAddress, iov_len: count) }
}

// MARK: [UInt8] conveniences

/// Runs `body` on the array's own storage (no copy, no resize). `Array.withUnsafeMutableBytes`
/// only rethrows untyped errors, so the typed error is carried out in a `Result`.
@inline(__always)
func withMutableBytes<Value>(
    of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(Errno) -> Value
) throws(Errno) -> Value {
    let result: Result<Value, Errno> = array.withUnsafeMutableBytes { bytes in
        do throws(Errno) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Read-only counterpart of `withMutableBytes(of:_:)`.
@inline(__always)
func withBytes<Value>(
    of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Errno) -> Value
) throws(Errno) -> Value {
    let result: Result<Value, Errno> = array.withUnsafeBytes { bytes in
        do throws(Errno) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try result.get()
}
