import MailSyncTenantData
import Testing
@testable import MailSyncEngine

/// How the sync stores a fetched body: the raw message compressed, and its text as well only
/// above ``TimelineBodies/textDerivedUpTo`` (one compression per mail below it).
@Suite("Sync engine: what is stored of a fetched body")
struct StoredBodyTests {
    static func message(bodyBytes: Int) -> [UInt8] {
        Array("Subject: hi\r\nContent-Type: text/plain\r\n\r\n".utf8) + Array(repeating: UInt8(ascii: "x"), count: bodyBytes)
    }

    @Test("up to textDerivedUpTo only the raw message is stored, and reads back as its text")
    func smallStoresRawOnly() throws {
        let raw = Self.message(bodyBytes: 2_000)
        let body = MailboxSync.StoredBody(raw)
        #expect(body.text == nil)
        #expect(try TimelineBodies.text(.raw(body.raw)).get() == String(repeating: "x", count: 2_000))
    }

    @Test("above textDerivedUpTo the text is stored beside the raw message")
    func largeStoresText() throws {
        let raw = Self.message(bodyBytes: TimelineBodies.textDerivedUpTo)
        #expect(raw.count > TimelineBodies.textDerivedUpTo)
        let body = MailboxSync.StoredBody(raw)
        let text = try #require(body.text)
        #expect(try TimelineBodies.text(.text(text)).get() == String(repeating: "x", count: TimelineBodies.textDerivedUpTo))
        #expect(!body.raw.isEmpty)
    }
}
