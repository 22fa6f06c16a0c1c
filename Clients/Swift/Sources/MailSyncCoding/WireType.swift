/// How a field's value is laid out after its tag.
///
/// The encoding is protobuf's wire format: a tag is the varint `field << 3 | wireType`. Groups
/// (wire types 3 and 4) are not part of this format and are rejected when decoding.
public enum WireType: UInt8, Sendable, Hashable {
    /// An unsigned LEB128 varint of at most 10 bytes (integers, bools, enums, timestamps).
    case varint = 0
    /// Eight little-endian bytes (doubles).
    case fixed64 = 1
    /// A varint byte count, then that many bytes (strings, bytes, messages, packed repeated fields, map entries).
    case lengthDelimited = 2
    /// Four little-endian bytes (reserved for future fixed32 types; skipped when unknown).
    case fixed32 = 5
}
