import MailSyncIMAP
import Testing

@Suite("IMAPParser FETCH")
struct IMAPParserFetchTests {
    static func fetch(_ input: [UInt8]) throws -> (UInt32, [FetchAttribute]) {
        guard case .untagged(.fetch(let number, let attributes)) = try parse(input) else {
            throw IMAPError(.unexpectedByte, "not a FETCH")
        }
        return (number, attributes)
    }

    @Test("Dovecot UID FETCH with flags, date, size and envelope")
    func dovecotEnvelope() throws {
        let line = "* 12 FETCH (UID 4827 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-2024 02:44:25 -0700\" RFC822.SIZE 4286 "
            + "ENVELOPE (\"Wed, 17 Jul 2024 02:23:25 -0700\" \"=?UTF-8?B?UmU6IEFuZ2Vib3Qgw7xiZXIgMTAwIOKCrA==?=\" "
            + "((\"=?ISO-8859-1?Q?J=F6rg_M=FCller?=\" NIL \"joerg\" \"example.de\")) "
            + "((\"=?ISO-8859-1?Q?J=F6rg_M=FCller?=\" NIL \"joerg\" \"example.de\")) "
            + "((NIL NIL \"replies\" \"example.de\")) "
            + "((\"Alice\" NIL \"alice\" \"crm.test\")(\"Bob \\\"B\\\" Smith\" NIL \"bob\" \"crm.test\")) "
            + "NIL NIL \"<abc@example.de>\" \"<4827.1721208205@example.de>\"))\r\n"
        let (number, attributes) = try Self.fetch(bytes(line))
        #expect(number == 12)
        #expect(attributes.count == 5)
        #expect(attributes[0] == .uid(4827))
        #expect(attributes[1] == .flags(["\\Seen", "$Forwarded"]))
        #expect(attributes[2] == .internalDate("17-Jul-2024 02:44:25 -0700"))
        #expect(attributes[3] == .rfc822Size(4286))
        guard case .envelope(let envelope) = attributes[4] else {
            Issue.record("no envelope")
            return
        }
        #expect(envelope.dateText == "Wed, 17 Jul 2024 02:23:25 -0700")
        #expect(envelope.subjectText == "Re: Angebot über 100 €")
        #expect(envelope.from.map(\.nameText) == ["Jörg Müller"])
        #expect(envelope.from.map(\.emailAddress) == ["joerg@example.de"])
        #expect(envelope.sender.count == 1)
        #expect(envelope.replyTo == [Address(mailbox: bytes("replies"), host: bytes("example.de"))])
        #expect(envelope.to.map(\.nameText) == ["Alice", "Bob \"B\" Smith"])
        #expect(envelope.cc.isEmpty && envelope.bcc.isEmpty)
        #expect(envelope.inReplyToText == "<abc@example.de>")
        #expect(envelope.messageIDText == "<4827.1721208205@example.de>")
    }

    @Test("Gmail FETCH with X-GM items, an all-NIL envelope and a group")
    func gmailEnvelope() throws {
        let line = "* 1 FETCH (X-GM-THRID 1803000000000000000 X-GM-MSGID 1803000000000000001 X-GM-LABELS (\\Important \"\\\\Sent\" Work) UID 5 "
            + "ENVELOPE (NIL NIL NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL) FLAGS ())\r\n"
        let (_, attributes) = try Self.fetch(bytes(line))
        #expect(attributes[0] == .other(name: "X-GM-THRID", value: .atom("1803000000000000000")))
        #expect(attributes[2] == .other(name: "X-GM-LABELS", value: .list([.atom("\\Important"), .string(bytes("\\Sent")), .atom("Work")])))
        #expect(attributes[3] == .uid(5))
        guard case .envelope(let envelope) = attributes[4] else {
            Issue.record("no envelope")
            return
        }
        #expect(envelope.subject == nil && envelope.date == nil && envelope.from.isEmpty)
        #expect(envelope.to == [Address(mailbox: bytes("undisclosed-recipients")), Address()])
        #expect(envelope.to[0].emailAddress == nil)
        #expect(attributes[5] == .flags([]))
    }

    @Test("8-bit subjects: raw UTF-8 in a quoted string and in a literal, invalid bytes replaced")
    func eightBitSubjects() throws {
        let subject: [UInt8] = Array("Angebot für Müller – 日本".utf8)
        let quoted = bytes("* 1 FETCH (ENVELOPE (NIL \"") + subject + bytes("\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
        let literal = bytes("* 1 FETCH (ENVELOPE (NIL {\(subject.count)}\r\n") + subject + bytes(" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
        let broken = bytes("* 1 FETCH (ENVELOPE (NIL {5}\r\n") + [0x41, 0xFF, 0xC3, 0x0D, 0x0A] + bytes(" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
        for (input, expected) in [(quoted, "Angebot für Müller – 日本"), (literal, "Angebot für Müller – 日本"), (broken, "A\u{FFFD}\u{FFFD}\r\n")] {
            for chunks in chunkings(of: input, randomRuns: 5) {
                let responses = try decode(chunks)
                guard responses.count == 1, case .untagged(.fetch(_, let attributes)) = responses[0],
                      case .envelope(let envelope) = attributes[0] else {
                    Issue.record("no envelope")
                    continue
                }
                #expect(envelope.subjectText == expected)
            }
        }
    }

    @Test("BODY.PEEK[] answered as BODY[] with a literal holding CRLF and 8-bit bytes")
    func bodySection() throws {
        let message: [UInt8] = bytes("From: a@b.c\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\nH") + [0xE9, 0x00, 0xFF] + bytes("llo\r\n.\r\n")
        let input = bytes("* 3 FETCH (UID 99 BODY[] {\(message.count)}\r\n") + message + bytes(" FLAGS (\\Seen))\r\n")
        let expected: [FetchAttribute] = [.uid(99), .bodySection(section: "", origin: nil, data: message), .flags(["\\Seen"])]
        for chunks in chunkings(of: input) {
            #expect(try decode(chunks) == [.untagged(.fetch(sequenceNumber: 3, attributes: expected))])
        }
    }

    struct SectionCase: Sendable, CustomTestStringConvertible {
        var input: String
        var expected: FetchAttribute
        var testDescription: String { input }
    }

    static let sectionCases: [SectionCase] = [
        SectionCase(input: "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {22}\r\nSubject: Hi\r\nFrom: x\r\n)\r\n",
                    expected: .bodySection(section: "HEADER.FIELDS (SUBJECT FROM)", origin: nil, data: bytes("Subject: Hi\r\nFrom: x\r\n"))),
        SectionCase(input: "* 1 FETCH (BODY[header.fields (Message-ID \"X-Odd]\")] {2}\r\n\r\n)\r\n",
                    expected: .bodySection(section: "HEADER.FIELDS (MESSAGE-ID \"X-ODD]\")", origin: nil, data: bytes("\r\n"))),
        SectionCase(input: "* 1 FETCH (BODY[1.2]<0> \"abc\")\r\n", expected: .bodySection(section: "1.2", origin: 0, data: bytes("abc"))),
        SectionCase(input: "* 1 FETCH (BODY[TEXT] NIL)\r\n", expected: .bodySection(section: "TEXT", origin: nil, data: nil)),
        SectionCase(input: "* 1 FETCH (BINARY[1] ~{3}\r\n\0\u{1}\u{2})\r\n", expected: .bodySection(section: "1", origin: nil, data: [0, 1, 2])),
        SectionCase(input: "* 1 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1))\r\n",
                    expected: .other(name: "BODY", value: .list([.string(bytes("TEXT")), .string(bytes("PLAIN")), .list([.string(bytes("CHARSET")), .string(bytes("UTF-8"))]),
                                                                  .nil, .nil, .string(bytes("7BIT")), .atom("12"), .atom("1")]))),
        SectionCase(input: "* 1 FETCH (MODSEQ (624140003))\r\n", expected: .other(name: "MODSEQ", value: .list([.atom("624140003")]))),
    ]

    @Test("body sections and unmodelled items", arguments: sectionCases)
    func sections(_ testCase: SectionCase) throws {
        let (_, attributes) = try Self.fetch(bytes(testCase.input))
        #expect(attributes == [testCase.expected])
    }
}
