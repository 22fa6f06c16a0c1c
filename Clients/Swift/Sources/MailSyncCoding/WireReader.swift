/// Reads fields in the wire format from untrusted bytes.
///
/// Every length is checked against the bytes that remain in the enclosing message before anything is
/// read or allocated; varints stop at 10 bytes; nesting stops at `DecodingLimits.maxDepth`; strings
/// must be valid UTF-8. Failures throw `DecodingError` naming the field. A singular field that
/// appears more than once takes its last value; a repeated scalar field accepts both packed and
/// unpacked encodings.
public struct WireReader: Sendable {
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var index: Int
    /// End of the message being read (exclusive).
    @usableFromInline var end: Int
    @usableFromInline var depth: Int
    @usableFromInline var lastTagStart: Int
    let limits: DecodingLimits

    public init(bytes: [UInt8], limits: DecodingLimits = .default) {
        self.bytes = bytes
        self.index = 0
        self.end = bytes.count
        self.depth = 0
        self.lastTagStart = 0
        self.limits = limits
    }

    /// Decodes a whole top-level message: the bytes must hold exactly one.
    public mutating func readTopLevel<M: Message>(_ type: M.Type) throws -> M {
        depth = 1
        guard depth <= limits.maxDepth else {
            throw DecodingError(.depthLimitExceeded, "nesting exceeds the limit of \(limits.maxDepth)")
        }
        return try M(from: &self)
    }

    // MARK: Tags

    /// The next field's number and wire type, or nil when the current message has ended.
    public mutating func nextTag() throws -> (field: Int, wireType: WireType)? {
        guard index < end else { return nil }
        lastTagStart = index
        let key = try readVarint(field: nil)
        let rawType = UInt8(key & 7)
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw DecodingError(.invalidFieldNumber, "field number \(number) is outside 1...536870911")
        }
        guard let wireType = WireType(rawValue: rawType) else {
            throw DecodingError(.invalidWireType, field: Int(number), "wire type \(rawType) is not used by this format")
        }
        return (Int(number), wireType)
    }

    // MARK: Primitives

    @inlinable
    mutating func readVarint(field: Int?) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<10 {
            guard index < end else {
                throw DecodingError(.truncated, field: field, "the input ends inside a varint")
            }
            let byte = bytes[index]
            index += 1
            if i == 9 && byte > 1 {
                throw DecodingError(.varintTooLong, field: field, "a varint overflows 64 bits")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        throw DecodingError(.varintTooLong, field: field, "a varint is longer than 10 bytes")
    }

    @inlinable
    static func unzigzag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    mutating func expect(_ wireType: WireType, got: WireType, field: Int) throws {
        guard wireType == got else {
            throw DecodingError(
                .wireTypeMismatch, field: field,
                "expected wire type \(wireType.rawValue), got \(got.rawValue)")
        }
    }

    /// Reads a length prefix and checks it against what remains of the enclosing message.
    mutating func readLength(field: Int) throws -> Int {
        let length = try readVarint(field: field)
        let remaining = end - index
        guard length <= UInt64(remaining) else {
            throw DecodingError(
                .lengthExceedsRemaining, field: field,
                "a length of \(length) bytes exceeds the \(remaining) that remain")
        }
        return Int(length)
    }

    mutating func readFixed64(field: Int) throws -> UInt64 {
        guard end - index >= 8 else {
            throw DecodingError(.truncated, field: field, "the input ends inside an 8-byte value")
        }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[index + i]) << (8 * UInt64(i)) }
        index += 8
        return value
    }

    // MARK: Scalars

    public mutating func readInt32(field: Int, wireType: WireType) throws -> Int32 {
        try expect(.varint, got: wireType, field: field)
        return try int32(Self.unzigzag(readVarint(field: field)), field: field)
    }

    public mutating func readInt64(field: Int, wireType: WireType) throws -> Int64 {
        try expect(.varint, got: wireType, field: field)
        return Self.unzigzag(try readVarint(field: field))
    }

    public mutating func readUInt32(field: Int, wireType: WireType) throws -> UInt32 {
        try expect(.varint, got: wireType, field: field)
        let value = try readVarint(field: field)
        guard let narrow = UInt32(exactly: value) else {
            throw DecodingError(.valueOutOfRange, field: field, "\(value) does not fit in uint32")
        }
        return narrow
    }

    public mutating func readUInt64(field: Int, wireType: WireType) throws -> UInt64 {
        try expect(.varint, got: wireType, field: field)
        return try readVarint(field: field)
    }

    public mutating func readBool(field: Int, wireType: WireType) throws -> Bool {
        try expect(.varint, got: wireType, field: field)
        return try bool(readVarint(field: field), field: field)
    }

    public mutating func readDouble(field: Int, wireType: WireType) throws -> Double {
        try expect(.fixed64, got: wireType, field: field)
        return Double(bitPattern: try readFixed64(field: field))
    }

    public mutating func readString(field: Int, wireType: WireType) throws -> String {
        try expect(.lengthDelimited, got: wireType, field: field)
        let length = try readLength(field: field)
        let slice = bytes[index..<index + length]
        index += length
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw DecodingError(.invalidUTF8, field: field, "a string is not valid UTF-8")
        }
        return string
    }

    public mutating func readBytes(field: Int, wireType: WireType) throws -> [UInt8] {
        try expect(.lengthDelimited, got: wireType, field: field)
        let length = try readLength(field: field)
        let value = Array(bytes[index..<index + length])
        index += length
        return value
    }

    public mutating func readEnum<E: OpenEnum>(field: Int, wireType: WireType) throws -> E {
        E(rawValue: try readInt32(field: field, wireType: wireType))
    }

    public mutating func readTimestamp(field: Int, wireType: WireType) throws -> Timestamp {
        Timestamp(microsecondsSinceEpoch: try readInt64(field: field, wireType: wireType))
    }

    /// Reads a nested message, one level deeper.
    public mutating func readMessage<M: Message>(field: Int, wireType: WireType) throws -> M {
        try expect(.lengthDelimited, got: wireType, field: field)
        let length = try readLength(field: field)
        guard depth < limits.maxDepth else {
            throw DecodingError(
                .depthLimitExceeded, field: field,
                "messages nest deeper than the limit of \(limits.maxDepth)")
        }
        let outerEnd = end
        end = index + length
        depth += 1
        let message = try M(from: &self)
        depth -= 1
        end = outerEnd
        return message
    }

    // MARK: Repeated scalars: packed or one value per tag

    public mutating func readRepeatedInt32(field: Int, wireType: WireType, into values: inout [Int32]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            try $0.int32(Self.unzigzag($0.readVarint(field: field)), field: field)
        }
    }

    public mutating func readRepeatedInt64(field: Int, wireType: WireType, into values: inout [Int64]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            Self.unzigzag(try $0.readVarint(field: field))
        }
    }

    public mutating func readRepeatedUInt32(field: Int, wireType: WireType, into values: inout [UInt32]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            let value = try $0.readVarint(field: field)
            guard let narrow = UInt32(exactly: value) else {
                throw DecodingError(.valueOutOfRange, field: field, "\(value) does not fit in uint32")
            }
            return narrow
        }
    }

    public mutating func readRepeatedUInt64(field: Int, wireType: WireType, into values: inout [UInt64]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            try $0.readVarint(field: field)
        }
    }

    public mutating func readRepeatedBool(field: Int, wireType: WireType, into values: inout [Bool]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            try $0.bool($0.readVarint(field: field), field: field)
        }
    }

    public mutating func readRepeatedDouble(field: Int, wireType: WireType, into values: inout [Double]) throws {
        try readRepeated(field: field, wireType: wireType, element: .fixed64, into: &values) {
            Double(bitPattern: try $0.readFixed64(field: field))
        }
    }

    public mutating func readRepeatedEnum<E: OpenEnum>(field: Int, wireType: WireType, into values: inout [E]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            E(rawValue: try $0.int32(Self.unzigzag($0.readVarint(field: field)), field: field))
        }
    }

    public mutating func readRepeatedTimestamp(field: Int, wireType: WireType, into values: inout [Timestamp]) throws {
        try readRepeated(field: field, wireType: wireType, element: .varint, into: &values) {
            Timestamp(microsecondsSinceEpoch: Self.unzigzag(try $0.readVarint(field: field)))
        }
    }

    private mutating func readRepeated<T>(
        field: Int, wireType: WireType, element: WireType, into values: inout [T],
        _ readOne: (inout WireReader) throws -> T
    ) throws {
        if wireType == element {
            values.append(try readOne(&self))
            return
        }
        try expect(.lengthDelimited, got: wireType, field: field)
        let length = try readLength(field: field)
        let outerEnd = end
        end = index + length
        while index < end { values.append(try readOne(&self)) }
        end = outerEnd
    }

    // MARK: Maps

    /// Reads one map entry (key = field 1, value = field 2); a missing key or value takes its default.
    ///
    /// `decodeField` is called for each field of the entry with the entry's own field number.
    public mutating func readMapEntry<K, V>(
        field: Int, wireType: WireType, key: K, value: V,
        _ decodeField: (inout WireReader, Int, WireType, inout K, inout V) throws -> Void
    ) throws -> (K, V) {
        try expect(.lengthDelimited, got: wireType, field: field)
        let length = try readLength(field: field)
        guard depth < limits.maxDepth else {
            throw DecodingError(
                .depthLimitExceeded, field: field,
                "messages nest deeper than the limit of \(limits.maxDepth)")
        }
        let outerEnd = end
        end = index + length
        depth += 1
        var k = key
        var v = value
        while let (entryField, entryType) = try nextTag() {
            try decodeField(&self, entryField, entryType, &k, &v)
        }
        depth -= 1
        end = outerEnd
        return (k, v)
    }

    // MARK: Unknown fields

    /// Skips the value of the field whose tag was just read.
    public mutating func skip(field: Int, wireType: WireType) throws {
        switch wireType {
        case .varint: _ = try readVarint(field: field)
        case .fixed64:
            guard end - index >= 8 else {
                throw DecodingError(.truncated, field: field, "the input ends inside an 8-byte value")
            }
            index += 8
        case .fixed32:
            guard end - index >= 4 else {
                throw DecodingError(.truncated, field: field, "the input ends inside a 4-byte value")
            }
            index += 4
        case .lengthDelimited:
            index += try readLength(field: field)
        }
    }

    /// Skips the field whose tag was just read and keeps its tag and value in `unknown`.
    public mutating func skip(field: Int, wireType: WireType, into unknown: inout UnknownFields) throws {
        let start = lastTagStart
        try skip(field: field, wireType: wireType)
        unknown.bytes.append(contentsOf: bytes[start..<index])
    }

    // MARK: Range checks

    func int32(_ value: Int64, field: Int) throws -> Int32 {
        guard let narrow = Int32(exactly: value) else {
            throw DecodingError(.valueOutOfRange, field: field, "\(value) does not fit in int32")
        }
        return narrow
    }

    func bool(_ value: UInt64, field: Int) throws -> Bool {
        switch value {
        case 0: return false
        case 1: return true
        default: throw DecodingError(.valueOutOfRange, field: field, "a bool must be 0 or 1, got \(value)")
        }
    }
}
