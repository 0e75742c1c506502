import Glibc
import Synchronization

/// Ends a fuzz run that stops making progress (a poll that never returns, a loop in the
/// library), printing the episode it was in, so that a hang is a finding and not a stuck CI job.
public final class Watchdog: Sendable {
    private let beats = Atomic<Int>(0)
    private let episode = Mutex<String>("")
    private let limit: Duration

    public init(limit: Duration) {
        self.limit = limit
    }

    /// Records progress, and what is running now.
    public func beat(_ what: String) {
        episode.withLock { $0 = what }
        beats.add(1, ordering: .relaxed)
    }

    /// Starts watching on a detached thread; exits the process with status 3 on a hang.
    public func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { context in
            let watchdog = Unmanaged<Watchdog>.fromOpaque(context!).takeRetainedValue()
            watchdog.watch()
            return nil
        }, context)
        pthread_detach(thread)
    }

    private func watch() {
        let clock = ContinuousClock()
        var last = beats.load(ordering: .relaxed)
        var since = clock.now
        while true {
            sleep(5)
            let now = beats.load(ordering: .relaxed)
            if now != last {
                last = now
                since = clock.now
            } else if clock.now - since > limit {
                print("HANG: no progress for \(limit) in \(episode.withLock { $0 })")
                fflush(nil)
                exit(3)
            }
        }
    }
}
