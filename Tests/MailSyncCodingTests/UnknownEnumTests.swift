import MailSyncCoding
import Testing
import TestSupport

@Suite("Open enums")
struct UnknownEnumTests {
    @Test("A value added later survives a round trip through an older build, in every cardinality")
    func newerValueSurvives() throws {
        var newer = NewerColorHolder()
        newer.color = .blue
        newer.colors = [.red, .blue, NewerColor(rawValue: 77)]
        newer.byId = [1: .blue, 2: .green]
        newer.maybe = .blue
        let bytes = newer.serializedBytes()

        let older = try ColorHolder(serializedBytes: bytes)
        #expect(older.color.rawValue == 3)
        #expect(older.color.name == nil)
        #expect(older.color.description == "unknown(3)")
        #expect(older.colors.map(\.rawValue) == [1, 3, 77])
        #expect(older.byId[1]?.rawValue == 3)
        #expect(older.maybe?.rawValue == 3)
        #expect(older.unknownFields.isEmpty)

        #expect(older.serializedBytes() == bytes)
        #expect(try NewerColorHolder(serializedBytes: older.serializedBytes()) == newer)
    }

    @Test("Known values have their schema names; allKnown lists them in order")
    func names() {
        #expect(Color.allKnown == [.unspecified, .red, .green])
        #expect(Color.red.name == "COLOR_RED")
        #expect(Color.green.description == "COLOR_GREEN")
        #expect(Color(rawValue: 2) == .green)
    }
}
