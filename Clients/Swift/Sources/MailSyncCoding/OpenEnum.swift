/// An enum whose set of values may grow: a value this build does not know survives a round trip.
///
/// Generated enums are structs wrapping an `Int32` with a static member per known value, so adding a
/// value to the schema never breaks a caller's `switch` (which must have a `default`).
public protocol OpenEnum: RawRepresentable, Sendable, Hashable, CustomStringConvertible
where RawValue == Int32 {
    init(rawValue: Int32)
    /// The schema's name for this value, or nil for a value this build does not know.
    var name: String? { get }
}

extension OpenEnum {
    public var description: String { name ?? "unknown(\(rawValue))" }
}
