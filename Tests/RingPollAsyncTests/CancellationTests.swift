import Glibc
import RingPoll
import RingPollAsync
import Synchronization
import Testing

/// A cancelled task waiting on the executor resumes promptly with `CancellationError`, exactly
/// once, and the socket stays usable.
@Suite struct CancellationTests {
    /// Runs `operation` in a task on the executor, cancels it after `settle` (it waits by then),
    /// and returns what the task threw (nil if it returned).
    static func cancelWhileWaiting(on executor: PollExecutor, settle: Duration = .milliseconds(20),
                                   _ operation: @escaping @Sendable () async throws -> Void) async throws -> (any Error)? {
        let task = Task(executorPreference: executor) { () -> ((any Error)?, ContinuousClock.Instant) in
            let error = await errorOf(operation)
            return (error, ContinuousClock.now)  // on the executor thread, right after the wait ended
        }
        try await Task.sleep(for: settle)
        let cancelled = ContinuousClock.now
        task.cancel()
        let (error, ended) = try await within(.seconds(30), "the cancelled task") { await task.value }
        // Measured where the task resumed, so that a busy global executor (which runs this test
        // function) does not count: the executor itself must answer the cancellation promptly.
        #expect(ended - cancelled < .seconds(1), "promptly")
        return error
    }

    @Test(arguments: AsyncTestBackends.all)
    func cancelsARead(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (reader, writer) = try AsyncUnixStream.pair(on: executor)
            let error = try await Self.cancelWhileWaiting(on: executor) { _ = try await readSome(reader) }
            #expect(error is CancellationError, "\(String(describing: error))")
            // The registration is consistent: the next read gets the next data.
            try await writer.write([1, 2, 3])
            let bytes = try await within(.seconds(30)) { try await readSome(reader) }
            #expect(bytes == [1, 2, 3])
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func cancelsAWriteThatWaitsForRoom(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (writer, reader) = try AsyncUnixStream.pair(on: executor)
            let written = Counter()
            let error = try await Self.cancelWhileWaiting(on: executor, settle: .milliseconds(100)) {
                let chunk = [UInt8](repeating: 7, count: 64 * 1024)
                while true {  // the reader never reads: this fills the socket buffers, then waits
                    try await writer.write(chunk)
                    written.increment(by: chunk.count)
                }
            }
            #expect(error is CancellationError, "\(String(describing: error))")
            #expect(written.count > 0)
            // The cancelled write gave up its turn: another write goes through once there is room.
            _ = try await readSome(reader, capacity: 1 << 20)
            try await within(.seconds(30)) { try await writer.write([1]) }
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func cancelsAnAccept(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let listener = try AsyncTCPListener.bind(SocketAddress("127.0.0.1:0"), on: executor)
            let error = try await Self.cancelWhileWaiting(on: executor) { _ = try await listener.accept() }
            #expect(error is CancellationError, "\(String(describing: error))")
            // The listener still accepts.
            let address = try listener.localAddress()
            let client = Task { try await AsyncTCPStream.connect(to: address, on: executor) }
            let accepted = try await within(.seconds(30)) { try await listener.accept().0 }
            _ = try await client.value
            try accepted.close()
        }
    }

    @Test(arguments: AsyncTestBackends.all)
    func cancelsASleep(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let error = try await Self.cancelWhileWaiting(on: executor) { try await executor.sleep(for: .seconds(60)) }
            #expect(error is CancellationError, "\(String(describing: error))")
            try await within(.seconds(30)) { try await executor.sleep(for: .milliseconds(1)) }
        }
    }

    /// A task cancelled before it reaches the wait does not wait at all.
    @Test(arguments: AsyncTestBackends.all)
    func aTaskCancelledBeforeItWaitsThrowsAtOnce(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (reader, writer) = try AsyncUnixStream.pair(on: executor)  // the writer stays open
            let reading = Task(executorPreference: executor) {
                withUnsafeCurrentTask { $0?.cancel() }
                return await errorOf { _ = try await readSome(reader) }
            }
            let readError = try await within(.seconds(30)) { await reading.value }
            #expect(readError is CancellationError)
            let sleeping = Task(executorPreference: executor) {
                withUnsafeCurrentTask { $0?.cancel() }
                return await errorOf { try await executor.sleep(for: .seconds(60)) }
            }
            let sleepError = try await within(.seconds(30)) { await sleeping.value }
            #expect(sleepError is CancellationError)
            try writer.close()
        }
    }

    /// Thousands of waiting tasks cancelled at once from another thread, on reads (one waiting
    /// for readiness and three queued behind it per socket) and sleeps: every one ends with
    /// `CancellationError` (a double resume would trap), and nothing stays parked (the executor's
    /// shutdown at the end needs every wait gone, and the sockets still work).
    @Test(arguments: AsyncTestBackends.all)
    func thousandsOfCancellations(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let pairs = try (0..<500).map { _ in try AsyncUnixStream.pair(on: executor) }
            let cancelled = Counter(), other = Counter()
            var tasks: [Task<Void, Never>] = []
            for (index, pair) in pairs.enumerated() {
                let reader = pair.0
                for _ in 0..<4 {
                    tasks.append(Task(executorPreference: executor) {
                        let error = await errorOf { _ = try await readSome(reader) }
                        if error is CancellationError { cancelled.increment() } else { other.increment() }
                    })
                }
                tasks.append(Task(executorPreference: executor) {
                    let error = await errorOf { try await executor.sleep(for: .seconds(60 + Int64(index % 7))) }
                    if error is CancellationError { cancelled.increment() } else { other.increment() }
                })
            }
            try await Task.sleep(for: .milliseconds(300))
            for task in tasks { task.cancel() }
            for task in tasks { try await within(.seconds(30)) { await task.value } }
            #expect(cancelled.count == tasks.count)
            #expect(other.count == 0)
            for (reader, writer) in pairs.prefix(50) {
                try await writer.write([9])
                let bytes = try await within(.seconds(30)) { try await readSome(reader) }
                #expect(bytes == [9])
            }
        }
    }

    /// Cancellation racing with readiness: a byte is written at the moment the reader is
    /// cancelled, from two other threads. Each round ends exactly one way (the byte or
    /// `CancellationError`), and no byte is lost: what a cancelled read did not take, the next
    /// read gets.
    @Test(arguments: AsyncTestBackends.all)
    func cancellationRacesWithData(backend: Backend) async throws {
        try await withExecutor(backend) { executor in
            let (reader, writer) = try AsyncUnixStream.pair(on: executor)
            var cancelledRounds = 0, dataRounds = 0
            for round in 0..<2_000 {
                let byte = UInt8(truncatingIfNeeded: round)
                let task = Task(executorPreference: executor) { () -> Result<[UInt8], any Error> in
                    do { return .success(try await readSome(reader, capacity: 1)) } catch { return .failure(error) }
                }
                let writing = Task.detached { try await writer.write([byte]) }
                let cancelling = Task.detached { task.cancel() }
                await cancelling.value
                try await writing.value
                let outcome = try await within(.seconds(30)) { await task.value }
                switch outcome {
                case .success(let bytes):
                    #expect(bytes == [byte])
                    dataRounds += 1
                case .failure(let error):
                    #expect(error is CancellationError, "\(error)")
                    cancelledRounds += 1
                    let bytes = try await within(.seconds(30)) { try await readSome(reader, capacity: 1) }
                    #expect(bytes == [byte], "the byte the cancelled read left")
                }
            }
            #expect(cancelledRounds + dataRounds == 2_000)
            print("cancellationRacesWithData (\(backend)): \(cancelledRounds) cancelled, \(dataRounds) got the byte")
        }
    }
}
