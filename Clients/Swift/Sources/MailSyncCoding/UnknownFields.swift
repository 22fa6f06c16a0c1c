/// Fields this build does not know, kept as their exact bytes (tag and value) so that a message
/// passed through an older program loses nothing.
public struct UnknownFields: Sendable, Hashable {
    /// The raw bytes of the unknown fields, in the order they arrived.
    public internal(set) var bytes: [UInt8] = []

    public init() {}

    public var isEmpty: Bool { bytes.isEmpty }
}
