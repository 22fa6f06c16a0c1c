import Foundation
import MailSyncIMAP
import MailSyncMailTransport
import Testing

/// The MIME builder, pure: what goes into SMTP DATA for a Smart Mail.
@Suite("MIMEMessage", .timeLimit(.minutes(5)))
struct MIMEMessageTests {
    static let date = Date(timeIntervalSince1970: 1_790_000_000)  // Mon, 21 Sep 2026 14:13:20 UTC

    static func message(
        subject: String = "Hello", fromName: String = "Alice Example", text: String? = "Hi.\n", html: String? = nil,
        to: [MIMEMessage.Address] = [MIMEMessage.Address("lead@customer.example", name: "Lead")], cc: [MIMEMessage.Address] = []
    ) -> MIMEMessage {
        MIMEMessage(
            from: MIMEMessage.Address("alice@acme.example", name: fromName), to: to, cc: cc, subject: subject,
            textBody: text, htmlBody: html, date: date, messageID: "fixed-id@acme.example", boundary: "=_test_boundary")
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// The header block, unfolded, as `[(name, value)]`.
    static func headers(_ bytes: [UInt8]) -> [(String, String)] {
        let text = Self.text(bytes)
        let head = text.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        return head.components(separatedBy: "\r\n").map { line in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), String(line[line.index(after: colon)...].dropFirst()))
        }
    }

    static func header(_ bytes: [UInt8], _ name: String) -> String? {
        headers(bytes).first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Every line ends in CRLF, has no bare CR or LF, at most 998 characters, 7-bit only.
    static func expectWellFormed(_ bytes: [UInt8], maxHeaderLine: Int = 78, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(bytes.allSatisfy { $0 < 0x80 }, "8-bit byte in output", sourceLocation: sourceLocation)
        #expect(bytes.suffix(2) == [0x0D, 0x0A], "does not end in CRLF", sourceLocation: sourceLocation)
        var line = 0
        var inHeader = true
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                #expect(index + 1 < bytes.count && bytes[index + 1] == 0x0A, "bare CR at \(index)", sourceLocation: sourceLocation)
                #expect(line <= 998, "line of \(line) characters", sourceLocation: sourceLocation)
                if inHeader {
                    #expect(line <= maxHeaderLine, "header line of \(line) characters", sourceLocation: sourceLocation)
                    if line == 0 { inHeader = false }
                }
                line = 0
                index += 2
                continue
            }
            #expect(byte != 0x0A, "bare LF at \(index)", sourceLocation: sourceLocation)
            line += 1
            index += 1
        }
    }

    static func decodeQuotedPrintable(_ body: String) -> [UInt8] {
        var output: [UInt8] = []
        let bytes = Array(body.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "="), index + 2 < bytes.count,
                let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                output.append(value)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    static func body(_ bytes: [UInt8]) -> String {
        let text = Self.text(bytes)
        return String(text[text.range(of: "\r\n\r\n")!.upperBound...])
    }

    @Test("headers in order: Date (RFC 5322, English), From, To, Subject, Message-ID, MIME-Version, one text/plain part")
    func plainMessage() throws {
        let bytes = try Self.message().build()
        Self.expectWellFormed(bytes)
        #expect(Self.text(bytes) == """
            Date: Mon, 21 Sep 2026 14:13:20 +0000\r
            From: Alice Example <alice@acme.example>\r
            To: Lead <lead@customer.example>\r
            Subject: Hello\r
            Message-ID: <fixed-id@acme.example>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Hi.\r

            """)
    }

    @Test("Date: zone offsets with daylight saving and single-digit days, whatever the locale")
    func dates() {
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 1_704_164_645)) == "Tue, 2 Jan 2024 03:04:05 +0000")
        #expect(RFC5322Date.format(Self.date, timeZone: TimeZone(identifier: "Asia/Kolkata")!) == "Mon, 21 Sep 2026 19:43:20 +0530")
        #expect(RFC5322Date.format(Self.date, timeZone: TimeZone(identifier: "America/New_York")!) == "Mon, 21 Sep 2026 10:13:20 -0400")
        #expect(RFC5322Date.format(Date(timeIntervalSince1970: 1_704_164_645), timeZone: TimeZone(identifier: "America/New_York")!)
            == "Mon, 1 Jan 2024 22:04:05 -0500")
    }

    @Test("a UTF-8 subject and names become encoded words that decode back; ASCII stays readable")
    func encodedWords() throws {
        let subject = "Angebot für Köln – 日本語のテスト ✓ " + String(repeating: "Grüße ", count: 20)
        let bytes = try Self.message(
            subject: subject, fromName: "Zoë Ågren",
            to: [MIMEMessage.Address("lead@customer.example", name: "José Müller"), MIMEMessage.Address("b@customer.example", name: "Smith, John")]
        ).build()
        Self.expectWellFormed(bytes)
        let rawSubject = try #require(Self.header(bytes, "Subject"))
        #expect(rawSubject.hasPrefix("=?UTF-8?B?"))
        #expect(RFC2047.decode(rawSubject) == subject.trimmingCharacters(in: .whitespaces))
        #expect(RFC2047.decode(try #require(Self.header(bytes, "From"))) == "Zoë Ågren <alice@acme.example>")
        #expect(RFC2047.decode(try #require(Self.header(bytes, "To"))) == "José Müller <lead@customer.example>, \"Smith, John\" <b@customer.example>")
        // Every encoded word within RFC 2047's 75 characters.
        let words = Self.text(bytes).split(whereSeparator: { $0 == " " || $0 == "\r\n" }).filter { $0.hasPrefix("=?") }
        #expect(words.count > 3)
        #expect(words.allSatisfy { $0.count <= 76 })  // 75 plus a trailing comma in address lists
    }

    @Test("a long ASCII subject folds at spaces and unfolds to itself")
    func longASCIISubject() throws {
        let subject = (1...40).map { "word\($0)" }.joined(separator: " ")
        let bytes = try Self.message(subject: subject).build()
        Self.expectWellFormed(bytes)
        #expect(Self.text(bytes).contains("\r\n word"))
        #expect(Self.header(bytes, "Subject") == subject)
    }

    @Test("header injection: CR/LF in the subject or a name become spaces; in an address the build fails")
    func headerInjection() throws {
        let bytes = try Self.message(
            subject: "Hi\r\nBcc: victim@evil.example\r\n\r\nInjected body", fromName: "Alice\r\nX-Evil: 1"
        ).build()
        Self.expectWellFormed(bytes)
        let names = Self.headers(bytes).map(\.0)
        #expect(names == ["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
        #expect(Self.header(bytes, "Subject") == "Hi  Bcc: victim@evil.example    Injected body")
        for bad in ["lead@customer.example\r\nBcc: x@evil.example", "lead@customer.example>", "a b@c.example", "jörg@customer.example", "no-at-sign", "a@b"] {
            #expect(throws: MIMEMessageError.invalidAddress(field: "to[0]", bad)) {
                try Self.message(to: [MIMEMessage.Address(bad)]).build()
            }
        }
        #expect(throws: MIMEMessageError.self) {
            var message = Self.message()
            message.messageID = "x@y>\r\nBcc: z@evil.example"
            return try message.build()
        }
    }

    @Test("quoted-printable: lines of at most 76, '=' and trailing spaces encoded, line ends CRLF; decodes to the text")
    func quotedPrintable() throws {
        let text = "Price: 5 = five € \nA long line: " + String(repeating: "abc def ", count: 40) + "\r\ntrailing space \n.\n.leading dot\nlast"
        let bytes = try Self.message(text: text).build()
        Self.expectWellFormed(bytes)
        #expect(Self.header(bytes, "Content-Transfer-Encoding") == "quoted-printable")
        let body = Self.body(bytes)
        for line in body.components(separatedBy: "\r\n") { #expect(line.count <= 76, "\(line)") }
        #expect(body.contains("5 =3D five =E2=82=AC=20\r\n"))
        #expect(body.contains("trailing space=20\r\n"))
        let expected = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
        #expect(Self.decodeQuotedPrintable(body) == Array(expected.utf8))
    }

    @Test("mostly non-ASCII text goes base64 in 76-character lines")
    func base64() throws {
        let text = String(repeating: "日本語のテキストです。", count: 30)
        let bytes = try Self.message(text: text).build()
        Self.expectWellFormed(bytes)
        #expect(Self.header(bytes, "Content-Transfer-Encoding") == "base64")
        let lines = Self.body(bytes).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        let decoded = try #require(Data(base64Encoded: lines.joined()))
        #expect(String(decoding: decoded, as: UTF8.self) == text + "\r\n")
    }

    @Test("text and HTML: multipart/alternative, plain first, closed by the final boundary")
    func alternative() throws {
        let bytes = try Self.message(text: "Hi.", html: "<p>Hi.</p>").build()
        Self.expectWellFormed(bytes)
        #expect(Self.text(bytes).hasSuffix("""
            MIME-Version: 1.0\r
            Content-Type: multipart/alternative; boundary="=_test_boundary"\r
            \r
            --=_test_boundary\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            Hi.\r
            --=_test_boundary\r
            Content-Type: text/html; charset=utf-8\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            <p>Hi.</p>\r
            --=_test_boundary--\r

            """))
        let htmlOnly = try Self.message(text: nil, html: "<p>Hi.</p>").build()
        #expect(Self.header(htmlOnly, "Content-Type") == "text/html; charset=utf-8")
    }

    @Test("defaults: Message-ID <uuid@sender-domain>, a boundary no body can contain; Cc listed; recipients deduplicated")
    func defaults() throws {
        let message = MIMEMessage(
            from: MIMEMessage.Address("alice@Acme.Example"), to: [MIMEMessage.Address("a@x.example")],
            cc: [MIMEMessage.Address("b@x.example"), MIMEMessage.Address("A@x.example")], subject: "s", textBody: "t", htmlBody: "h",
            date: Self.date)
        #expect(message.messageID.hasSuffix("@acme.example"))
        #expect(UUID(uuidString: String(message.messageID.prefix(36))) != nil)
        #expect(message.boundary.hasPrefix("=_"))
        #expect(message.recipients == ["a@x.example", "b@x.example"])
        let bytes = try message.build()
        #expect(Self.header(bytes, "Message-ID") == "<\(message.messageID)>")
        #expect(Self.header(bytes, "Cc") == "b@x.example, A@x.example")
        #expect(Self.header(bytes, "From") == "alice@Acme.Example")
    }

    @Test("no recipient or no body is refused")
    func refusals() {
        #expect(throws: MIMEMessageError.noRecipients) { try Self.message(to: []).build() }
        #expect(throws: MIMEMessageError.noBody) { try Self.message(text: nil, html: nil).build() }
    }
}
