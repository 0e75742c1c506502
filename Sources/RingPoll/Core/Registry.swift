/// Registers sources with a `Poll`. Usable from any thread, also while another thread is blocked
/// in `poll`: that call sees the change (a registration made meanwhile reports its readiness in
/// the same call).
///
/// Rules, the same on every backend: registering a source twice throws `Errno.fileExists`;
/// reregistering or deregistering an unregistered one throws `Errno.noSuchFileOrDirectory`; a
/// closed descriptor throws `Errno.badFileDescriptor`; an empty interest throws
/// `Errno.invalidArgument`. Once `deregister` returns, no `poll` reports the registration again.
///
/// The three calls are inlinable forwarders to the source's hooks, so that a call with a concrete
/// socket type goes straight to that type's hook, with no generic dispatch in between.
public final class Registry: Sendable {
    let selector: any Selector

    init(selector: any Selector) {
        self.selector = selector
    }

    /// Starts reporting `interests` of `source` as events carrying `token`. Readiness that already
    /// holds is reported by the next poll.
    @inlinable
    public func register(_ source: some Source, token: Token, interests: Interest, trigger: Trigger = .edge) throws(Errno) {
        try source.register(self, token: token, interests: interests, trigger: trigger)
    }

    /// Replaces token, interests and trigger of a registered source. Readiness that holds is
    /// reported again, so a `.oneshot` registration that fired is armed anew.
    @inlinable
    public func reregister(_ source: some Source, token: Token, interests: Interest, trigger: Trigger = .edge) throws(Errno) {
        try source.reregister(self, token: token, interests: interests, trigger: trigger)
    }

    /// Stops reporting `source`. No later `poll` returns its token, not even for readiness the
    /// kernel had already reported.
    @inlinable
    public func deregister(_ source: some Source) throws(Errno) {
        try source.deregister(self)
    }
}
