/// Appends fields in the wire format to a growing byte array.
///
/// Generated code decides which fields to write (proto3 rules: a singular field at its default is
/// omitted, an `optional` one is written when set); these methods always write what they are given.
/// Signed integers, enums and timestamps are zigzag varints; map entries are written in ascending
/// key order so that equal messages always encode to equal bytes.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// - Parameter capacity: bytes to reserve up front (default 64).
    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    // MARK: Primitives

    public mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func writeTag(field: Int, wireType: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    public static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    public mutating func writeRawBytes(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    mutating func writeLengthDelimited(_ raw: some Collection<UInt8>, field: Int) {
        writeTag(field: field, wireType: .lengthDelimited)
        writeVarint(UInt64(raw.count))
        bytes.append(contentsOf: raw)
    }

    // MARK: Scalar fields

    public mutating func writeInt32(_ value: Int32, field: Int) {
        writeTag(field: field, wireType: .varint)
        writeVarint(Self.zigzag(Int64(value)))
    }

    public mutating func writeInt64(_ value: Int64, field: Int) {
        writeTag(field: field, wireType: .varint)
        writeVarint(Self.zigzag(value))
    }

    public mutating func writeUInt32(_ value: UInt32, field: Int) {
        writeTag(field: field, wireType: .varint)
        writeVarint(UInt64(value))
    }

    public mutating func writeUInt64(_ value: UInt64, field: Int) {
        writeTag(field: field, wireType: .varint)
        writeVarint(value)
    }

    public mutating func writeBool(_ value: Bool, field: Int) {
        writeTag(field: field, wireType: .varint)
        bytes.append(value ? 1 : 0)
    }

    public mutating func writeDouble(_ value: Double, field: Int) {
        writeTag(field: field, wireType: .fixed64)
        appendFixed64(value.bitPattern)
    }

    public mutating func writeString(_ value: String, field: Int) {
        writeLengthDelimited(value.utf8, field: field)
    }

    public mutating func writeBytes(_ value: [UInt8], field: Int) {
        writeLengthDelimited(value, field: field)
    }

    public mutating func writeEnum<E: OpenEnum>(_ value: E, field: Int) {
        writeInt32(value.rawValue, field: field)
    }

    public mutating func writeTimestamp(_ value: Timestamp, field: Int) {
        writeInt64(value.microsecondsSinceEpoch, field: field)
    }

    public mutating func writeMessage<M: Message>(_ value: M, field: Int) {
        var nested = WireWriter()
        value.encode(to: &nested)
        writeLengthDelimited(nested.bytes, field: field)
    }

    /// Appends the unknown fields kept from decoding, verbatim.
    public mutating func writeUnknownFields(_ unknown: UnknownFields) {
        bytes.append(contentsOf: unknown.bytes)
    }

    // MARK: Packed repeated scalars (nothing is written for an empty array)

    public mutating func writePackedInt32(_ values: [Int32], field: Int) {
        writePacked(field: field, values) { $0.writeVarint(Self.zigzag(Int64($1))) }
    }

    public mutating func writePackedInt64(_ values: [Int64], field: Int) {
        writePacked(field: field, values) { $0.writeVarint(Self.zigzag($1)) }
    }

    public mutating func writePackedUInt32(_ values: [UInt32], field: Int) {
        writePacked(field: field, values) { $0.writeVarint(UInt64($1)) }
    }

    public mutating func writePackedUInt64(_ values: [UInt64], field: Int) {
        writePacked(field: field, values) { $0.writeVarint($1) }
    }

    public mutating func writePackedBool(_ values: [Bool], field: Int) {
        writePacked(field: field, values) { $0.bytes.append($1 ? 1 : 0) }
    }

    public mutating func writePackedDouble(_ values: [Double], field: Int) {
        writePacked(field: field, values) { $0.appendFixed64($1.bitPattern) }
    }

    public mutating func writePackedEnum<E: OpenEnum>(_ values: [E], field: Int) {
        writePacked(field: field, values) { $0.writeVarint(Self.zigzag(Int64($1.rawValue))) }
    }

    public mutating func writePackedTimestamp(_ values: [Timestamp], field: Int) {
        writePacked(field: field, values) { $0.writeVarint(Self.zigzag($1.microsecondsSinceEpoch)) }
    }

    private mutating func writePacked<T>(field: Int, _ values: [T], _ each: (inout WireWriter, T) -> Void) {
        guard !values.isEmpty else { return }
        var nested = WireWriter(capacity: values.count * 2)
        for value in values { each(&nested, value) }
        writeLengthDelimited(nested.bytes, field: field)
    }

    // MARK: Maps

    /// Writes one entry message (key = field 1, value = field 2) per element, in ascending key order.
    public mutating func writeMap<K: Comparable, V>(
        _ map: [K: V],
        field: Int,
        key writeKey: (inout WireWriter, K) -> Void,
        value writeValue: (inout WireWriter, V) -> Void
    ) {
        for k in map.keys.sorted() {
            var entry = WireWriter()
            writeKey(&entry, k)
            writeValue(&entry, map[k]!)
            writeLengthDelimited(entry.bytes, field: field)
        }
    }

    private mutating func appendFixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
