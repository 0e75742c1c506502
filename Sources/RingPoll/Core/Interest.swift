/// The readiness a registration asks to hear about.
///
/// Errors and hang-ups are always reported, whatever the interest; an interest only selects which
/// kinds of readiness wake the poll.
///
/// Frozen and inlinable, so that `.readable` at a call site is a constant rather than a call to a
/// global's lazy accessor in every `register`.
@frozen
public struct Interest: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The interest bits; only `readable`, `writable` and `priority` are defined.
    public let rawValue: UInt8

    /// An interest from its bits, as `OptionSet` requires; prefer the named members.
    @inlinable
    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// Data can be read, a connection accepted, or the peer has closed its side.
    @inlinable public static var readable: Interest { Interest(rawValue: 1 << 0) }
    /// Data can be written, or a non-blocking connect has finished.
    @inlinable public static var writable: Interest { Interest(rawValue: 1 << 1) }
    /// Priority data (TCP out-of-band, `POLLPRI`) is available.
    @inlinable public static var priority: Interest { Interest(rawValue: 1 << 2) }

    /// Contains `.readable`.
    public var isReadable: Bool { contains(.readable) }
    /// Contains `.writable`.
    public var isWritable: Bool { contains(.writable) }
    /// Contains `.priority`.
    public var isPriority: Bool { contains(.priority) }

    /// This interest without `other`, or `nil` when nothing would be left, since an empty
    /// interest cannot be registered.
    public func removing(_ other: Interest) -> Interest? {
        let rest = subtracting(other)
        return rest.isEmpty ? nil : rest
    }

    /// Names joined by ` | `, for example `READABLE | WRITABLE`; `(empty)` for no interest.
    public var description: String {
        var names: [String] = []
        if isReadable { names.append("READABLE") }
        if isWritable { names.append("WRITABLE") }
        if isPriority { names.append("PRIORITY") }
        return names.isEmpty ? "(empty)" : names.joined(separator: " | ")
    }
}
