/// Wakes a `Poll` from any thread: the next `poll` (or the one blocked now) returns a readable
/// event with the waker's token. Wakes before that poll may merge into one event.
///
/// Any number of wakers may share a `Poll`, each with its own token. Waking a poll that has been
/// dropped does nothing.
public final class Waker: Sendable {
    private let registry: Registry
    private let id: WakerID

    /// A waker reporting `token`. Throws `Errno.badFileDescriptor` when the poll is gone.
    public init(registry: Registry, token: Token) throws(Errno) {
        self.registry = registry
        id = try registry.selector.addWaker(token: token)
    }

    /// Makes a later (or the blocked) `poll` report the token as readable. Cheap when the poller
    /// is awake: it only marks the waker ready; a sleeping poller is woken by one eventfd write.
    public func wake() throws(Errno) {
        try registry.selector.wake(id)
    }

    deinit {
        registry.selector.removeWaker(id)
    }
}
