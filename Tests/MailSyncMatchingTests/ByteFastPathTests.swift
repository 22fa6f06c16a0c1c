@testable import MailSyncMatching
import Testing

/// The byte-level fast paths give what the general (Unicode) paths give: keys written by either
/// must deduplicate against each other.
@Suite("Byte-level fast paths")
struct ByteFastPathTests {
    @Test("an ASCII Message-ID normalizes the same on the byte path as on the Unicode path")
    func asciiMessageIDs() {
        var state: UInt64 = 7
        func next() -> UInt64 {  // a fixed xorshift sequence, so a failure repeats
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        let alphabet = Array("<> \t\r\n\u{0B}\u{0C}aZ9.@-_$!\"".utf8)
        for _ in 0..<5_000 {
            let length = Int(next() % 24)
            let raw = (0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            #expect(MessageKey.normalizedASCIIID(raw) == MessageKey.normalizedUnicodeID(raw), "\(raw)")
        }
        #expect(MessageKey.normalizedID(Array(" <a\r\n b@c> \r\n".utf8)) == "a b@c")
        #expect(MessageKey.normalizedID(Array(" <é@c> ".utf8)) == "é@c")
    }

    @Test("header fields: names lower-cased, values trimmed, folded lines joined, the first of repeats kept")
    func headerFields() {
        let raw = Array((
            "Content-Type:  multipart/mixed;\r\n\tboundary=\"b1\"  \r\n"
            + "X-Note: café\r\n"
            + "no colon here\r\n"
            + "  folded onto the line without a colon\r\n"
            + "SUBJECT: first\r\n"
            + "Subject: second\r\n"
            + "\r\n"
            + "body\r\n").utf8)
        let (headers, body) = MailBodyText.split(raw[...])
        #expect(headers["content-type"] == "multipart/mixed; boundary=\"b1\"")
        #expect(headers["x-note"] == "café")
        #expect(headers["subject"] == "first")
        #expect(headers.count == 3)
        #expect(String(decoding: body, as: UTF8.self) == "body\r\n")
        let type = ContentType(headers["content-type"]!)
        #expect(type.type == "multipart/mixed")
        #expect(type.parameters == ["boundary": "b1"])
        #expect(ContentType(" Text/HTML ; Charset = \"UTF-8\" ").parameters == ["charset": "UTF-8"])
        #expect(ContentType(" Text/HTML ; Charset = \"UTF-8\" ").type == "text/html")
    }
}
