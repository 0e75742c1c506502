import Glibc
import Testing
@testable import RingPoll

/// A signal that ends the wait surfaces as `Errno.interrupted`, and nothing is lost by it.
@Suite struct InterruptTests {
    @Test(arguments: TestBackends.all)
    func signalDuringWaitThrowsInterrupted(backend: Backend) throws {
        // A handler without SA_RESTART; io_uring and epoll return EINTR either way.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR2, &action, nil)

        let poll = try Poll(backend: backend)
        let pair = SocketPair()
        try poll.registry.register(SourceFD(pair.local), token: Token(1), interests: .readable)
        let handoff = Handoff(poll)
        let poller = TestThread { () -> Errno? in
            // Test-runner threads may block signals, and new threads inherit the mask.
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGUSR2)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            var events = Events(capacity: 8)
            do throws(Errno) {
                try handoff.value.poll(&events, timeout: .seconds(10))
                return nil
            } catch {
                return error
            }
        }
        #expect(waitUntil { poll.registry.selector.diagnostics.isPollerAsleep })
        // The signal may land just before the poller enters the kernel; send until it returns.
        var outcome: Errno??
        for _ in 0..<200 where outcome == nil {
            pthread_kill(poller.pthread, SIGUSR2)
            outcome = poller.result(within: .milliseconds(20))
        }
        poller.join()
        #expect(outcome == .some(.interrupted))

        // Readiness is not lost across the interruption.
        pair.send()
        #expect(try pollFor(Token(1), in: poll).count == 1)
    }
}
