import Testing
@testable import RingPoll

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
        try poll.poll(&events, timeout: min(left, .milliseconds(100)))
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
        try poll.poll(&events, timeout: left)
        seen.append(contentsOf: events)
    }
}
