/// Wakes a `Poll` from any thread: the next `poll` (or the one blocked now) returns a readable
/// event with the waker's token. Wakes before that poll may merge into one event.
///
/// Any number of wakers may share a `Poll`, each with its own token. Waking a poll that has been
/// dropped does nothing.
public final class Waker: Sendable {
    private let registry: Registry
    private let id: WakerID

    public init(registry: Registry, token: Token) throws(Errno) {
        self.registry = registry
        id = try registry.selector.addWaker(token: token)
    }

    public func wake() throws(Errno) {
        try registry.selector.wake(id)
    }

    deinit {
        registry.selector.removeWaker(id)
    }
}
