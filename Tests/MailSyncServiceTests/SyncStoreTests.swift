import Foundation
@testable import MailSyncEngine
@testable import MailSyncService
import Testing

@Suite("SyncStore helpers", .timeLimit(.minutes(5)))
struct SyncStoreTests {
    @Test("the hand-written JSON array reads back as the same strings")
    func json() throws {
        let values = ["plain@example.com", "quote\"in", "back\\slash", "new\nline", "tab\tand\u{1}", "ümlaut", ""]
        let text = SyncStore.json(values)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]
        #expect(parsed == values)
        #expect(SyncStore.json([]) == "[]")
    }
}
