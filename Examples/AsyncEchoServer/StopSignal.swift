import Glibc
import RingPoll
import RingPollAsync
import Synchronization

/// The socket that SIGINT and SIGTERM write to. A signal handler may only do async-signal-safe
/// things: a write(2) to a number it finds in an atomic is one of them.
private let stopSocket = Atomic<CInt>(-1)

/// A socket pair whose reading end becomes readable when SIGINT or SIGTERM arrives, so that
/// stopping is an `await` like any other (the self-pipe trick).
struct StopSignal {
    private let receiver: AsyncUnixStream
    private let sender: UnixStream

    init(on executor: PollExecutor) throws(Errno) {
        let (sender, receiver) = try UnixStream.pair()
        self.sender = sender
        self.receiver = AsyncUnixStream(receiver, on: executor)
        stopSocket.store(sender.fileDescriptor, ordering: .releasing)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signalNumber in [SIGINT, SIGTERM] {
            sigaddset(&stopSignals, signalNumber)
            signal(signalNumber) { _ in
                var byte: UInt8 = 1
                _ = write(stopSocket.load(ordering: .acquiring), &byte, 1)
            }
        }
        // A launcher may have left them blocked, and a blocked signal never reaches the handler.
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
    }

    /// Returns when a stop signal has arrived.
    func wait() async {
        var byte: [UInt8] = [0]
        _ = try? await receiver.read(into: &byte)
    }
}
