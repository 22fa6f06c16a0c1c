import MailSyncCoding
import Testing
import TestSupport

@Suite("Round trips of random messages")
struct RoundTripTests {
    static let seeds: [UInt64] = Array(1...500)

    @Test("decode(encode(m)) == m, and encoding is deterministic", arguments: seeds)
    func roundTrip(seed: UInt64) throws {
        var random = RandomMessages(seed: seed)
        let message = random.allTypes()
        let bytes = message.serializedBytes()
        let decoded = try AllTypes(serializedBytes: bytes)
        #expect(sameBits(decoded, message), "seed \(seed)")
        #expect(decoded.unknownFields.isEmpty, "seed \(seed)")
        #expect(decoded.serializedBytes() == bytes, "seed \(seed)")
    }

    @Test("An older reader keeps what it does not know, and writes it back", arguments: seeds.prefix(200))
    func unknownFieldsSurvive(seed: UInt64) throws {
        var random = RandomMessages(seed: seed)
        let message = random.allTypes()
        let older = try OlderAllTypes(serializedBytes: message.serializedBytes())
        let back = try AllTypes(serializedBytes: older.serializedBytes())
        #expect(sameBits(back, message), "seed \(seed)")
    }

    @Test("A default message encodes to just its always-written message fields")
    func defaults() throws {
        #expect(Nested().serializedBytes() == [])
        // Singular message fields are always written: `nested` (field 11) is an empty message.
        #expect(AllTypes().serializedBytes() == [0x5A, 0x00])
        #expect(try AllTypes(serializedBytes: []) == AllTypes())
    }

    @Test("Optional fields set to their default are written and read back as set")
    func optionalDefaults() throws {
        var m = AllTypes()
        m.optionalInt32 = 0
        m.optionalString = ""
        m.optionalBool = false
        m.optionalColor = .unspecified
        m.optionalNested = Nested()
        let decoded = try AllTypes(serializedBytes: m.serializedBytes())
        #expect(decoded == m)
        #expect(decoded.optionalInt32 == 0)
        #expect(decoded.optionalNested == Nested())
    }

    @Test("Repeated scalars are read both packed and one value per tag")
    func unpackedRepeated() throws {
        // Field 41 (repeated int32), wire type 0, twice: values 1 and -1 (zigzag 2 and 1).
        let unpacked: [UInt8] = [0xC8, 0x02, 0x02, 0xC8, 0x02, 0x01]
        let packed: [UInt8] = [0xCA, 0x02, 0x02, 0x02, 0x01]
        #expect(try AllTypes(serializedBytes: unpacked).repeatedInt32 == [1, -1])
        #expect(try AllTypes(serializedBytes: packed).repeatedInt32 == [1, -1])
        #expect(try AllTypes(serializedBytes: packed + unpacked).repeatedInt32 == [1, -1, 1, -1])
    }

    @Test("A singular field that repeats takes its last value")
    func lastValueWins() throws {
        let bytes: [UInt8] = [0x08, 0x02, 0x08, 0x04]
        #expect(try AllTypes(serializedBytes: bytes).int32Value == 2)
    }
}
