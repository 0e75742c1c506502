/// Identifies a registration in the events that `Poll` returns.
///
/// The value is the caller's: RingPoll never interprets it, so every `Int` is allowed, including
/// negative numbers and `Int.max`.
public struct Token: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number given at creation.
    public var rawValue: Int

    /// Creates a token carrying `rawValue`.
    @inlinable
    public init(_ rawValue: Int) {
        self.rawValue = rawValue
    }

    /// Orders by value, so tokens can be sorted or used as ordered keys.
    @inlinable
    public static func < (lhs: Token, rhs: Token) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// `Token(n)`.
    public var description: String { "Token(\(rawValue))" }
}
