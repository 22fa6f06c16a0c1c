import MailSyncCoding
import Testing
import TestSupport

/// One fixed message and its exact encoding, worked out by hand from `Schema/README.md`
/// ("Wire mapping"): a change to the encoder that changes bytes on the wire fails here.
@Suite("Golden bytes")
struct GoldenBytesTests {
    static var message: AllTypes {
        var m = AllTypes()
        m.int32Value = -2
        m.int64Value = 300
        m.uint32Value = 1
        m.uint64Value = .max
        m.boolValue = true
        m.doubleValue = 1.0
        m.stringValue = "hé"
        m.bytesValue = [0xFF, 0x00]
        m.timestampValue = Timestamp(microsecondsSinceEpoch: -1)
        m.color = .green
        m.nested.label = "a"
        m.optionalInt32 = 0
        m.repeatedInt32 = [1, -1]
        m.repeatedString = ["x", ""]
        m.stringToString = ["k": "v"]
        m.farAway = 1
        return m
    }

    /// Tag = field << 3 | wire type, as a varint. Signed integers, enums and timestamps are zigzag.
    static let golden = hex("""
        08 03                          field 1 int32, varint: zigzag(-2) = 3
        10 d8 04                       field 2 int64: zigzag(300) = 600 = 0x258
        18 01                          field 3 uint32: 1
        20 ff ff ff ff ff ff ff ff ff 01   field 4 uint64: max, a 10-byte varint
        28 01                          field 5 bool: true
        31 00 00 00 00 00 00 f0 3f     field 6 double, fixed64 little-endian: 1.0
        3a 03 68 c3 a9                 field 7 string, length 3: "hé" in UTF-8
        42 02 ff 00                    field 8 bytes, length 2
        48 01                          field 9 timestamp: zigzag(-1) = 1
        50 04                          field 10 enum: green = 2, zigzag 4
        5a 03 0a 01 61                 field 11 message, length 3: { field 1 string "a" }
        a8 01 00                       field 21 optional int32, set to 0, so written
        ca 02 02 02 01                 field 41 packed int32, length 2: zigzag 1 -> 2, -1 -> 1
        fa 02 01 78                    field 47 repeated string: "x"
        fa 02 00                       field 47 repeated string: ""
        ea 03 06 0a 01 6b 12 01 76     field 61 map entry, length 6: key (1) "k", value (2) "v"
        f8 ff ff ff 0f 02              field 536870911 int32: a five-byte tag; zigzag(1) = 2
        """)

    /// Parses hex pairs at the start of each line; the rest of a line is a comment.
    static func hex(_ text: String) -> [UInt8] {
        text.split(separator: "\n").flatMap { line in
            line.split(separator: " ", omittingEmptySubsequences: true)
                .prefix { $0.count == 2 && UInt8($0, radix: 16) != nil }
                .map { UInt8($0, radix: 16)! }
        }
    }

    @Test("The fixed message encodes to the documented bytes")
    func encodes() {
        #expect(Self.message.serializedBytes() == Self.golden)
    }

    @Test("The documented bytes decode to the fixed message")
    func decodes() throws {
        #expect(try AllTypes(serializedBytes: Self.golden) == Self.message)
    }
}
