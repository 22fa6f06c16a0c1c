/// Why a message could not be decoded.
///
/// Every error names what was wrong and, where known, the field number, so that a server can answer
/// `invalid argument` with a message a client developer can act on.
public struct DecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The input ended in the middle of a tag or a value.
        case truncated
        /// A varint ran past 10 bytes.
        case varintTooLong
        /// A length prefix claims more bytes than remain in the enclosing message.
        case lengthExceedsRemaining
        /// Messages were nested deeper than the decoder's limit.
        case depthLimitExceeded
        /// A string field did not hold valid UTF-8.
        case invalidUTF8
        /// A tag used wire type 3, 4, 6 or 7.
        case invalidWireType
        /// A tag named field 0 or a number above 536,870,911.
        case invalidFieldNumber
        /// A known field arrived with a wire type its declared type cannot have.
        case wireTypeMismatch
        /// A value was out of range for its declared type (for example a bool other than 0 or 1).
        case valueOutOfRange
    }

    /// The kind of failure.
    public var kind: Kind
    /// The field being decoded when it happened, if known.
    public var field: Int?
    /// What happened, in words.
    public var detail: String

    public init(_ kind: Kind, field: Int? = nil, _ detail: String) {
        self.kind = kind
        self.field = field
        self.detail = detail
    }

    public var description: String {
        if let field { return "field \(field): \(detail)" }
        return detail
    }
}
