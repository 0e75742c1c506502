/// A raw file descriptor lent to the registry. It is never closed by RingPoll.
///
/// Deregister before closing it. If it is closed first anyway, RingPoll notices when the number
/// comes back for another file: registering that file works and receives no stale event. On
/// io_uring, until then, the armed poll keeps the closed file open in the kernel.
public struct SourceFD: Source, Sendable {
    /// The borrowed descriptor.
    public let fileDescriptor: CInt

    /// Borrows `fileDescriptor`; it must stay open while registered.
    public init(_ fileDescriptor: CInt) {
        self.fileDescriptor = fileDescriptor
    }

    /// Checks the descriptor (`fstat`: open, pollable, which file) and registers it.
    public func register(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try registry.selector.register(request(token: token, interests: interests, trigger: trigger))
    }

    /// Replaces the registration of this descriptor number, which must still name the registered file.
    public func reregister(_ registry: Registry, token: Token, interests: Interest, trigger: Trigger) throws(Errno) {
        try registry.selector.reregister(request(token: token, interests: interests, trigger: trigger))
    }

    /// Removes the registration of this descriptor number, even if the descriptor was closed since.
    public func deregister(_ registry: Registry) throws(Errno) {
        try registry.selector.deregister(descriptor: fileDescriptor, ownership: .borrowed)
    }

    private func request(token: Token, interests: Interest, trigger: Trigger) -> RegistrationRequest {
        RegistrationRequest(descriptor: fileDescriptor, token: token, interests: interests, trigger: trigger, ownership: .borrowed)
    }
}
