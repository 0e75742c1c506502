/// Something that can be registered with a `Registry`: a RingPoll socket, a raw descriptor
/// (`SourceFD`), or a type of yours that delegates to one of those.
///
/// The registry calls exactly one of these hooks, exactly once, per registry call. A type of
/// yours implements them by forwarding to the source it wraps.
public protocol Source {
    func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno)
    func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno)
    func deregister(_ registry: Registry) throws(Errno)
}
