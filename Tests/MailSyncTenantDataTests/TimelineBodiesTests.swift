import Foundation
import MailSyncMatching
@testable import MailSyncTenantData
import Testing

/// What a timeline read shows of a stored message: the stored text, or the text extracted from
/// the raw message when no text was stored (the sync's one compression per mail).
@Suite("TimelineBodies: text stored, or derived from the raw message")
struct TimelineBodiesTests {
    static let raw = Array("""
        From: Ann <ann@example.com>\r
        Subject: hello\r
        Content-Type: text/plain; charset=iso-8859-1\r
        Content-Transfer-Encoding: quoted-printable\r
        \r
        Gr=FC=DFe aus M=FCnchen\r

        """.utf8)

    @Test("a raw message without stored text reads as its extracted text; stored text reads as stored")
    func derivedAndStored() throws {
        let derived = try TimelineBodies.text(.raw(TimelineBodies.compress(bytes: Self.raw))).get()
        #expect(derived == MailBodyText.extract(Self.raw))
        #expect(derived.contains("Grüße aus München"))
        #expect(try TimelineBodies.text(.text(TimelineBodies.compress("stored text"))).get() == "stored text")
    }

    @Test("a raw message that inflates past textDerivedUpTo, text past maxBodyBytes, and a broken stream are refused")
    func refusals() {
        let big = Array(repeating: UInt8(ascii: "a"), count: TimelineBodies.textDerivedUpTo + 1)
        #expect(throws: (any Error).self) { try TimelineBodies.text(.raw(TimelineBodies.compress(bytes: big))).get() }
        let long = String(repeating: "b", count: TimelineBodies.maxBodyBytes + 1)
        #expect(throws: (any Error).self) { try TimelineBodies.text(.text(TimelineBodies.compress(long))).get() }
        #expect(throws: (any Error).self) { try TimelineBodies.text(.raw([1, 2, 3])).get() }
        #expect(TimelineBodies.textDerivedUpTo <= TimelineBodies.maxBodyBytes)
    }
}
