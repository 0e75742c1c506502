import Testing
@testable import RingPoll

extension Poll {
    /// `poll`, retrying `Errno.interrupted` as every mio-style loop does. Tests need it because
    /// io_uring sends signal-notified task-work to the threads that used a ring when the ring is
    /// closed (and, without DEFER_TASKRUN, for its completions too), which ends whatever
    /// non-restartable wait that pool thread is in next (an epoll test's epoll_wait, say) with
    /// EINTR. See docs/DESIGN.md.
    func pollRetrying(_ events: inout Events, timeout: Duration?) throws {
        while true {
            do throws(Errno) {
                try poll(&events, timeout: timeout)
                return
            } catch where error == .interrupted {
                continue
            }
        }
    }
}

/// Polls until `done` accepts everything seen so far, or `within` has passed. Returns every event
/// seen, in order. The wait is bounded: a missing event fails the test instead of hanging it.
@discardableResult
func pollUntil(
    _ poll: Poll,
    capacity: Int = 256,
    within limit: Duration = .seconds(5),
    _ done: ([Event]) -> Bool
) throws -> [Event] {
    var events = Events(capacity: capacity)
    var seen: [Event] = []
    let clock = ContinuousClock()
    let end = clock.now + limit
    while !done(seen) {
        let left = end - clock.now
        if left <= .zero { break }
        try poll.pollRetrying(&events, timeout: min(left, .milliseconds(100)))
        seen.append(contentsOf: events)
    }
    return seen
}

/// Polls until an event for `token` arrives (or `within` passes) and returns the events seen.
@discardableResult
func pollFor(_ token: Token, in poll: Poll, within limit: Duration = .seconds(5)) throws -> [Event] {
    try pollUntil(poll, within: limit) { $0.contains { $0.token == token } }
}

/// Every event that arrives within `window`; used to show that nothing (more) is reported.
func eventsWithin(_ window: Duration, from poll: Poll, capacity: Int = 256) throws -> [Event] {
    var seen: [Event] = []
    var events = Events(capacity: capacity)
    let clock = ContinuousClock()
    let end = clock.now + window
    while true {
        let left = end - clock.now
        if left <= .zero { return seen }
        try poll.pollRetrying(&events, timeout: left)
        seen.append(contentsOf: events)
    }
}
