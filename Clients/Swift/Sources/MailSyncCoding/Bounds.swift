/// The checks generated `validate()` methods call, one per kind of bound. Each is O(1) except
/// `knownValue`, and builds its message only on failure.
///
/// Lengths of strings are counted in UTF-8 bytes (what the wire carries, O(1) to read, and what a
/// client in any language can compute); bytes fields in bytes.
public enum Bounds {
    /// `max_length` on a string: at most `max` UTF-8 bytes.
    @inlinable
    public static func length(_ value: String, max: Int, field: @autoclosure () -> String) throws(BoundsViolation) {
        let count = value.utf8.count
        guard count <= max else {
            throw BoundsViolation(path: field(), problem: "has \(count) bytes (UTF-8); at most \(max)")
        }
    }

    /// `max_length` on bytes: at most `max` bytes.
    @inlinable
    public static func length(_ value: [UInt8], max: Int, field: @autoclosure () -> String) throws(BoundsViolation) {
        guard value.count <= max else {
            throw BoundsViolation(path: field(), problem: "has \(value.count) bytes; at most \(max)")
        }
    }

    /// `max_count` on a repeated field or a map: at most `max` elements (or entries).
    @inlinable
    public static func count(_ count: Int, max: Int, field: @autoclosure () -> String) throws(BoundsViolation) {
        guard count <= max else {
            throw BoundsViolation(path: field(), problem: "has \(count) elements; at most \(max)")
        }
    }

    /// `range` on an integer: `low ... high`.
    @inlinable
    public static func range<T: FixedWidthInteger>(_ value: T, _ low: T, _ high: T, field: @autoclosure () -> String) throws(BoundsViolation) {
        guard value >= low && value <= high else {
            throw BoundsViolation(path: field(), problem: "is \(value); must be \(low) to \(high)")
        }
    }

    /// `range` on a timestamp: microseconds `low ... high`; `spelled` is the range as the schema
    /// writes it, for the message.
    @inlinable
    public static func range(_ value: Timestamp, _ low: Int64, _ high: Int64, spelled: String, field: @autoclosure () -> String) throws(BoundsViolation) {
        let micros = value.microsecondsSinceEpoch
        guard micros >= low && micros <= high else {
            throw BoundsViolation(path: field(), problem: "is \(micros) µs since the epoch; must be from \(spelled)")
        }
    }

    /// `known_values = true` on an enum: a value this build does not know is refused.
    @inlinable
    public static func knownValue<E: OpenEnum>(_ value: E, field: @autoclosure () -> String) throws(BoundsViolation) {
        guard value.name != nil else {
            throw BoundsViolation(path: field(), problem: "is \(value.rawValue), which is not a value of \(E.self)")
        }
    }

    /// `interval start to end [max_days = n];`: `start <= end` and `end - start` at most `maxDays`
    /// days (nil: no length bound). Computed with overflow checks, so any two timestamps are safe.
    @inlinable
    public static func interval(
        _ start: Timestamp, _ end: Timestamp, maxDays: Int64?, startField: String, endField: String
    ) throws(BoundsViolation) {
        let (s, e) = (start.microsecondsSinceEpoch, end.microsecondsSinceEpoch)
        guard s <= e else {
            throw BoundsViolation(path: startField, problem: "is after \(endField) (\(s) > \(e) µs since the epoch); the interval must not end before it starts")
        }
        guard let maxDays else { return }
        let (span, overflow) = e.subtractingReportingOverflow(s)
        let (limit, limitOverflow) = maxDays.multipliedReportingOverflow(by: 86_400_000_000)
        guard !overflow, limitOverflow || span <= limit else {
            throw BoundsViolation(path: startField, problem: "to \(endField) spans more than \(maxDays) days; at most \(maxDays)")
        }
    }

    /// Prepends `field` to a violation found inside a nested message.
    @inlinable
    public static func nested<M: Message>(_ message: M, field: @autoclosure () -> String) throws(BoundsViolation) {
        do {
            try message.validate()
        } catch {
            throw error.nested(in: field())
        }
    }
}
