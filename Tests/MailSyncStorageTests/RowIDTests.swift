import Foundation
import MailSyncStorage
import Testing

@Suite("Row ids")
struct RowIDTests {
    @Test("version 4 UUIDs in lower case, which Foundation reads back; no repeats in 20,000")
    func shapeAndUniqueness() {
        var seen = Set<String>()
        for _ in 0..<20_000 {
            let id = RowID.make()
            #expect(id.utf8.count == 36)
            #expect(id == id.lowercased())
            let parsed = UUID(uuidString: id)
            #expect(parsed?.uuidString.lowercased() == id)
            let bytes = Array(id.utf8)
            #expect(bytes[14] == UInt8(ascii: "4"), "version nibble in \(id)")
            #expect("89ab".utf8.contains(bytes[19]), "variant nibble in \(id)")
            seen.insert(id)
        }
        #expect(seen.count == 20_000)
    }
}
