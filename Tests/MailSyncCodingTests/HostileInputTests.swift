import MailSyncCoding
import Testing
import TestSupport

/// Malformed and malicious inputs: each must fail with the right `DecodingError.Kind`, never crash
/// or allocate what the input claims.
@Suite("Hostile inputs")
struct HostileInputTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var kind: DecodingError.Kind
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "varint of 11 bytes", bytes: [0x08] + Array(repeating: 0xFF, count: 10) + [0x01], kind: .varintTooLong),
        Case(name: "varint whose 10th byte overflows 64 bits", bytes: [0x20] + Array(repeating: 0xFF, count: 9) + [0x02], kind: .varintTooLong),
        Case(name: "tag varint of 11 bytes", bytes: Array(repeating: 0x80, count: 10) + [0x01], kind: .varintTooLong),
        Case(name: "string length beyond the input", bytes: [0x3A, 0x05, 0x61], kind: .lengthExceedsRemaining),
        Case(name: "huge length", bytes: [0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], kind: .lengthExceedsRemaining),
        Case(name: "nested length beyond its parent", bytes: [0x5A, 0x02, 0x0A, 0x05, 0x61, 0x61, 0x61], kind: .lengthExceedsRemaining),
        Case(name: "packed length beyond the input", bytes: [0xCA, 0x02, 0x09, 0x02], kind: .lengthExceedsRemaining),
        Case(name: "invalid UTF-8", bytes: [0x3A, 0x02, 0xC3, 0x28], kind: .invalidUTF8),
        Case(name: "UTF-8 surrogate", bytes: [0x3A, 0x03, 0xED, 0xA0, 0x80], kind: .invalidUTF8),
        Case(name: "invalid UTF-8 in a map key", bytes: [0xEA, 0x03, 0x03, 0x0A, 0x01, 0xFF], kind: .invalidUTF8),
        Case(name: "field number 0", bytes: [0x00, 0x00], kind: .invalidFieldNumber),
        Case(name: "field number 2^29", bytes: [0x80, 0x80, 0x80, 0x80, 0x10, 0x00], kind: .invalidFieldNumber),
        Case(name: "wire type 3", bytes: [0x0B], kind: .invalidWireType),
        Case(name: "wire type 4", bytes: [0x0C], kind: .invalidWireType),
        Case(name: "wire type 6", bytes: [0x0E], kind: .invalidWireType),
        Case(name: "wire type 7", bytes: [0x0F], kind: .invalidWireType),
        Case(name: "bool value 2", bytes: [0x28, 0x02], kind: .valueOutOfRange),
        Case(name: "packed bool value 2", bytes: [0xEA, 0x02, 0x01, 0x02], kind: .valueOutOfRange),
        Case(name: "int32 beyond its range", bytes: [0x08, 0x80, 0x80, 0x80, 0x80, 0x10], kind: .valueOutOfRange),
        Case(name: "uint32 beyond its range", bytes: [0x18, 0x80, 0x80, 0x80, 0x80, 0x10], kind: .valueOutOfRange),
        Case(name: "string sent as a varint", bytes: [0x38, 0x01], kind: .wireTypeMismatch),
        Case(name: "int32 sent as bytes", bytes: [0x0A, 0x01, 0x61], kind: .wireTypeMismatch),
        Case(name: "message sent as a varint", bytes: [0x58, 0x01], kind: .wireTypeMismatch),
        Case(name: "tag alone", bytes: [0x08], kind: .truncated),
        Case(name: "varint cut short", bytes: [0x10, 0x80], kind: .truncated),
        Case(name: "double cut short", bytes: [0x31, 0x00, 0x00], kind: .truncated),
        Case(name: "unknown fixed32 cut short", bytes: [0x7D, 0x00], kind: .truncated),
        Case(name: "unknown fixed64 cut short", bytes: [0x79, 0x00], kind: .truncated),
        Case(name: "tag cut short", bytes: [0x80], kind: .truncated),
    ]

    @Test("fails with the right kind", arguments: cases)
    func rejects(_ c: Case) {
        #expect {
            _ = try AllTypes(serializedBytes: c.bytes)
        } throws: { error in
            (error as? DecodingError)?.kind == c.kind
        }
    }

    @Test("Every prefix of a valid message either decodes or fails as truncated or too long", arguments: [1, 2, 3] as [UInt64])
    func truncation(seed: UInt64) throws {
        var random = RandomMessages(seed: seed * 7919)
        let bytes = random.allTypes().serializedBytes()
        for end in 0..<bytes.count {
            do {
                _ = try AllTypes(serializedBytes: Array(bytes[..<end]))
            } catch let error as DecodingError {
                #expect([.truncated, .lengthExceedsRemaining, .invalidUTF8].contains(error.kind), "cut at \(end): \(error)")
            }
        }
    }

    static func chain(depth: Int) -> AllTypes {
        var message = AllTypes()
        for _ in 1..<depth {
            var parent = AllTypes()
            parent.children = [message]
            message = parent
        }
        return message
    }

    @Test("Nesting: just under the limit decodes, just over and far over fail", arguments: [
        (depth: 64, maxDepth: 64, ok: true),
        (depth: 65, maxDepth: 64, ok: false),
        (depth: 100, maxDepth: 64, ok: false),
        (depth: 8, maxDepth: 8, ok: true),
        (depth: 9, maxDepth: 8, ok: false),
    ])
    func depth(depth: Int, maxDepth: Int, ok: Bool) throws {
        // Each level's `nested` field is one level deeper still, so count with a leaf-free chain.
        let bytes = Self.chainBytes(depth: depth)
        let limits = DecodingLimits(maxDepth: maxDepth)
        if ok {
            _ = try AllTypes(serializedBytes: bytes, limits: limits)
        } else {
            #expect {
                _ = try AllTypes(serializedBytes: bytes, limits: limits)
            } throws: { error in
                (error as? DecodingError)?.kind == .depthLimitExceeded
            }
        }
    }

    /// `depth` messages, each the only child of the one before, with no other fields: field 70
    /// (children) wraps the bytes of the next level.
    static func chainBytes(depth: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 1..<depth {
            var writer = WireWriter()
            writer.writeTag(field: 70, wireType: .lengthDelimited)
            writer.writeVarint(UInt64(bytes.count))
            writer.writeRawBytes(bytes)
            bytes = writer.bytes
        }
        return bytes
    }

    @Test("A 100-deep generated message fails to decode with the default limit")
    func deepGenerated() {
        let bytes = Self.chain(depth: 100).serializedBytes()
        #expect {
            _ = try AllTypes(serializedBytes: bytes)
        } throws: { error in
            (error as? DecodingError)?.kind == .depthLimitExceeded
        }
    }

    @Test("Errors name the field")
    func namesField() {
        do {
            _ = try AllTypes(serializedBytes: [0x28, 0x02])
            Issue.record("decoded a bool of 2")
        } catch let error as DecodingError {
            #expect(error.field == 5)
            #expect(error.description.contains("field 5"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
