import Glibc
import RingPoll
import Synchronization

/// The write end of the pipe that SIGINT and SIGTERM write to. A signal handler may only do
/// async-signal-safe things: a write(2) to a number it finds in an atomic is one of them.
private let stopPipe = Atomic<CInt>(-1)

/// A pipe that becomes readable when SIGINT or SIGTERM arrives, so that stopping is just another
/// event of the poll loop (the self-pipe trick).
struct StopSignal {
    let receiver: PipeReceiver
    private let sender: PipeSender

    init() throws(Errno) {
        (sender, receiver) = try makePipe()
        stopPipe.store(sender.fileDescriptor, ordering: .releasing)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signalNumber in [SIGINT, SIGTERM] {
            sigaddset(&stopSignals, signalNumber)
            signal(signalNumber) { _ in
                var byte: UInt8 = 1
                _ = write(stopPipe.load(ordering: .acquiring), &byte, 1)
            }
        }
        // A launcher may have left them blocked, and a blocked signal never reaches the handler.
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
    }
}
