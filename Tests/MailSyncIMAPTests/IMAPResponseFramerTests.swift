import MailSyncIMAP
import Testing

@Suite("IMAPResponseFramer")
struct IMAPResponseFramerTests {
    /// A Dovecot-style session chunk: literals with CRLF and 8-bit data inside, several responses.
    static let transcript: [UInt8] =
        bytes("* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] Dovecot ready.\r\n")
        + bytes("* 1 FETCH (UID 7 BODY[] {18}\r\nSubject: x\r\n\r\nhi\r\n)\r\n")
        + bytes("* 2 FETCH (UID 8 ENVELOPE (NIL {6}\r\n") + [0x43, 0x61, 0x66, 0xC3, 0xA9, 0x0A] + bytes(" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
        + bytes("* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {0}\r\n UID 9)\r\n")
        + bytes("* 4 FETCH (BINARY[1] ~{4}\r\n\0\u{1}\r\n UID 10)\r\n")
        + bytes("a1 OK Fetch completed.\r\n")

    static let expectedFrames: [[UInt8]] = [
        bytes("* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] Dovecot ready.\r\n"),
        bytes("* 1 FETCH (UID 7 BODY[] {18}\r\nSubject: x\r\n\r\nhi\r\n)\r\n"),
        bytes("* 2 FETCH (UID 8 ENVELOPE (NIL {6}\r\n") + [0x43, 0x61, 0x66, 0xC3, 0xA9, 0x0A] + bytes(" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"),
        bytes("* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {0}\r\n UID 9)\r\n"),
        bytes("* 4 FETCH (BINARY[1] ~{4}\r\n\0\u{1}\r\n UID 10)\r\n"),
        bytes("a1 OK Fetch completed.\r\n"),
    ]

    @Test("same frames whole, byte by byte and in random chunks")
    func chunkingDoesNotMatter() throws {
        for chunks in chunkings(of: Self.transcript, randomRuns: 50) {
            #expect(try frames(chunks) == Self.expectedFrames)
        }
    }

    @Test("every two-way split of the transcript gives the same frames")
    func everySplitPoint() throws {
        for split in 0...Self.transcript.count {
            let chunks = [Array(Self.transcript[..<split]), Array(Self.transcript[split...])]
            #expect(try frames(chunks) == Self.expectedFrames, "split at \(split)")
        }
    }

    @Test("every split point gives identical parsed responses")
    func everySplitParses() throws {
        let whole = try decode([Self.transcript])
        #expect(whole.count == 6)
        for split in 0...Self.transcript.count {
            let chunks = [Array(Self.transcript[..<split]), Array(Self.transcript[split...])]
            #expect(try decode(chunks) == whole)
        }
    }

    @Test("nothing comes out before the literal's last byte")
    func waitsForLiteral() throws {
        var framer = IMAPResponseFramer()
        framer.append(bytes("* 1 FETCH (BODY[] {5}\r\nab"))
        #expect(try framer.nextResponse() == nil)
        framer.append(bytes("c\r\n"))
        #expect(try framer.nextResponse() == nil)
        framer.append(bytes(")\r\n"))
        #expect(try framer.nextResponse() == bytes("* 1 FETCH (BODY[] {5}\r\nabc\r\n)\r\n"))
        #expect(try framer.nextResponse() == nil)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test("empty lines are skipped and a bare LF ends a line")
    func lenientLineEndings() throws {
        #expect(try frames([bytes("\r\n* 3 EXISTS\n\r\na1 OK done\r\n")]) == [bytes("* 3 EXISTS\n"), bytes("a1 OK done\r\n")])
    }

    struct LimitCase: Sendable, CustomTestStringConvertible {
        var name: String
        var input: [UInt8]
        var limits: IMAPLimits
        var expected: IMAPError.Code?
        var testDescription: String { name }
    }

    static let limitCases: [LimitCase] = {
        let small = IMAPLimits(maxLineLength: 20, maxLiteralSize: 10)
        return [
            LimitCase(name: "line at the limit", input: bytes(String(repeating: "x", count: 20) + "\r\n"), limits: small, expected: nil),
            LimitCase(name: "line one over", input: bytes(String(repeating: "x", count: 21) + "\r\n"), limits: small, expected: .lineTooLong),
            LimitCase(name: "line over without CRLF yet", input: bytes(String(repeating: "x", count: 21)), limits: small, expected: .lineTooLong),
            LimitCase(name: "line at the limit, CR pending", input: bytes(String(repeating: "x", count: 20) + "\r"), limits: small, expected: nil),
            LimitCase(name: "text of all lines counts", input: bytes("* 1 FETCH {2}\r\nab 0123456789\r\n"), limits: small, expected: .lineTooLong),
            LimitCase(name: "literal bytes do not count", input: bytes("* {10}\r\n0123456789 x\r\n"), limits: small, expected: nil),
            LimitCase(name: "literal at the limit", input: bytes("* {10}\r\n0123456789\r\n"), limits: small, expected: nil),
            LimitCase(name: "literal one over, refused from the header", input: bytes("* {11}\r\n"), limits: small, expected: .literalTooLarge),
            LimitCase(name: "literal8 over", input: bytes("* ~{11}\r\n"), limits: small, expected: .literalTooLarge),
            LimitCase(name: "absurd literal size", input: bytes("* {99999999999999999999999999}\r\n"), limits: IMAPLimits(), expected: .literalTooLarge),
            LimitCase(name: "default literal limit + 1", input: bytes("* {52428801}\r\n"), limits: IMAPLimits(), expected: .literalTooLarge),
            LimitCase(name: "default line limit + 1", input: Array(repeating: UInt8(ascii: "a"), count: 65537), limits: IMAPLimits(), expected: .lineTooLong),
        ]
    }()

    @Test("limits, just under and just over", arguments: limitCases)
    func limits(_ testCase: LimitCase) {
        for chunks in chunkings(of: testCase.input, randomRuns: 3) {
            do {
                _ = try frames(chunks, limits: testCase.limits)
                #expect(testCase.expected == nil)
            } catch {
                #expect(error.code == testCase.expected, "\(error)")
            }
        }
    }

    @Test("a framing error is sticky")
    func errorIsSticky() {
        var framer = IMAPResponseFramer(limits: IMAPLimits(maxLiteralSize: 1))
        framer.append(bytes("* {2}\r\nab\r\na1 OK\r\n"))
        #expect(throws: IMAPError.self) { try framer.nextResponse() }
        #expect(throws: IMAPError.self) { try framer.nextResponse() }
    }

    @Test("many responses at once, drained linearly")
    func manyResponses() throws {
        var input: [UInt8] = []
        for number in 1...5000 { input += bytes("* \(number) EXPUNGE\r\n") }
        let responses = try decode([input])
        #expect(responses.count == 5000)
        #expect(responses.last == .untagged(.expunge(5000)))
    }
}
