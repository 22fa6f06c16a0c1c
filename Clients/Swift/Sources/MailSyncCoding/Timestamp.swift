/// A point in time with microsecond precision, independent of any calendar or time zone.
///
/// Encoded as a zigzag varint of microseconds since 1970-01-01T00:00:00Z, so it round-trips exactly
/// (a `Date` would not: it is a `Double`).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since the Unix epoch; negative before it.
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Double) {
        self.microsecondsSinceEpoch = Int64((secondsSinceEpoch * 1_000_000).rounded())
    }

    /// The epoch itself, the default value of a timestamp field.
    public static let epoch = Timestamp(microsecondsSinceEpoch: 0)

    public var secondsSinceEpoch: Double { Double(microsecondsSinceEpoch) / 1_000_000 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    public var description: String { "Timestamp(\(microsecondsSinceEpoch)µs)" }
}
