/// A message defined in a schema: encodable, decodable, and value-typed.
///
/// Generated types conform; hand-written ones may too. Decoding keeps fields it does not know in
/// `unknownFields` and writes them back when encoding, which is what makes the format forward and
/// backward compatible (see `Schema/README.md`, "Evolution rules").
public protocol Message: Sendable, Hashable {
    /// A message with every field at its default.
    init()
    /// Reads fields from `reader` until the reader's current message ends.
    ///
    /// - Throws: `DecodingError` on malformed input; the message is then unusable.
    init(from reader: inout WireReader) throws
    /// Appends the message's fields, then its unknown fields, to `writer`.
    func encode(to writer: inout WireWriter)
    /// Fields this build does not know, kept verbatim.
    var unknownFields: UnknownFields { get set }
    /// Checks the bounds the schema declares on this message's fields, at every depth (nested and
    /// repeated messages included). The server calls it on every request before the handler runs.
    ///
    /// - Throws: `BoundsViolation` naming the first field out of bounds (`items[3].name`) and the bound.
    func validate() throws(BoundsViolation)
}

extension Message {
    /// No bounds: generated messages whose schema declares none (at any depth) keep this.
    public func validate() throws(BoundsViolation) {}

    /// The message's encoding.
    public func serializedBytes() -> [UInt8] {
        var writer = WireWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a message from its encoding.
    ///
    /// - Parameter limits: bounds for untrusted input; the default allows nesting 64 deep.
    /// - Throws: `DecodingError`, naming the field and what was wrong.
    public init(serializedBytes bytes: [UInt8], limits: DecodingLimits = .default) throws {
        var reader = WireReader(bytes: bytes, limits: limits)
        self = try reader.readTopLevel(Self.self)
    }
}
