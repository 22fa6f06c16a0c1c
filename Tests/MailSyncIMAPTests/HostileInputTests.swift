import MailSyncIMAP
import Testing

/// Malformed and hostile input: each case is a specific error, never a crash, however it is chunked.
@Suite("Hostile input")
struct HostileInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var input: [UInt8]
        var expected: IMAPError.Code
        var testDescription: String { name }
    }

    static let limits = IMAPLimits(maxLineLength: 200, maxLiteralSize: 100, maxNestingDepth: 5)

    static let cases: [Case] = [
        Case(name: "unterminated quoted string", input: bytes("* 1 FETCH (ENVELOPE (NIL \"Hello world NIL))\r\n"), expected: .unterminatedQuotedString),
        Case(name: "unterminated quoted string ending in a backslash", input: bytes("* LIST () \"/\" \"abc\\\r\n"), expected: .unterminatedQuotedString),
        Case(name: "literal size over the limit", input: bytes("* 1 FETCH (BODY[] {101}\r\n"), expected: .literalTooLarge),
        Case(name: "literal size overflowing 64 bits", input: bytes("* 1 FETCH (BODY[] {184467440737095516160}\r\n"), expected: .literalTooLarge),
        Case(name: "nesting over the limit", input: bytes("* 1 FETCH (BODYSTRUCTURE ((((((\"x\"))))))\r\n"), expected: .nestingTooDeep),
        Case(name: "line over the limit", input: bytes("* OK " + String(repeating: "A", count: 300) + "\r\n"), expected: .lineTooLong),
        Case(name: "line over the limit with no CRLF ever", input: Array(repeating: UInt8(ascii: "*"), count: 500), expected: .lineTooLong),
        Case(name: "binary garbage", input: [0x00, 0x01, 0x02, 0xFF, 0x0D, 0x0A], expected: .unexpectedByte),
        Case(name: "not IMAP at all", input: bytes("HTTP/1.1 400 Bad Request\r\n"), expected: .unexpectedByte),
        Case(name: "tag without status", input: bytes("a1\r\n"), expected: .unexpectedEnd),
        Case(name: "tagged BYE", input: bytes("a1 BYE no\r\n"), expected: .unexpectedByte),
        Case(name: "star alone", input: bytes("*\r\n"), expected: .unexpectedEnd),
        Case(name: "EXISTS without number", input: bytes("* EXISTS\r\n"), expected: .invalidNumber),
        Case(name: "message number over 32 bits", input: bytes("* 4294967296 EXISTS\r\n"), expected: .invalidNumber),
        Case(name: "SEARCH with a word", input: bytes("* SEARCH 1 two\r\n"), expected: .invalidNumber),
        Case(name: "FETCH list not closed", input: bytes("* 1 FETCH (UID 5\r\n"), expected: .unexpectedEnd),
        Case(name: "FETCH UID not a number", input: bytes("* 1 FETCH (UID x)\r\n"), expected: .invalidNumber),
        Case(name: "envelope with 3 fields", input: bytes("* 1 FETCH (ENVELOPE (NIL NIL NIL))\r\n"), expected: .unexpectedEnd),
        Case(name: "address with 5 fields", input: bytes("* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL))\r\n"), expected: .unexpectedByte),
        Case(name: "trailing bytes after FETCH", input: bytes("* 1 FETCH (UID 5) junk\r\n"), expected: .unexpectedByte),
        Case(name: "literal header mid-line", input: bytes("* 1 FETCH (BODY[] {3}abc)\r\n"), expected: .invalidLiteralHeader),
        Case(name: "section never closed", input: bytes("* 1 FETCH (BODY[HEADER\r\n"), expected: .unexpectedEnd),
        Case(name: "LIST delimiter too long", input: bytes("* LIST () \"//\" INBOX\r\n"), expected: .unexpectedByte),
    ]

    @Test("each is a specific error", arguments: cases)
    func rejected(_ testCase: Case) {
        for chunks in chunkings(of: testCase.input, randomRuns: 5) {
            do {
                let responses = try decode(chunks, limits: Self.limits)
                Issue.record("accepted: \(responses)")
            } catch {
                #expect(error.code == testCase.expected, "\(error)")
            }
        }
    }

    @Test("nesting just at the limit is accepted")
    func nestingAtLimit() throws {
        // The FETCH list is level 1, so 4 more levels reach the limit of 5.
        let responses = try decode([bytes("* 1 FETCH (BODYSTRUCTURE ((((\"x\")))))\r\n")], limits: Self.limits)
        #expect(responses.count == 1)
    }

    @Test("a parse error skips one response only")
    func parseErrorIsLocal() throws {
        var decoder = IMAPResponseDecoder()
        decoder.append(bytes("* 1 FETCH (UID x)\r\n* 2 EXISTS\r\n"))
        #expect(throws: IMAPError.self) { try decoder.next() }
        #expect(try decoder.next() == .untagged(.exists(2)))
    }

    @Test("random bytes never crash")
    func fuzz() {
        var random = SplitMix64(seed: 42)
        let alphabet = bytes("* 1aOKNOFETCH()[]{}~\"\\ \r\n0123456789UIDENVELOPEBODYNIL+") + [0x00, 0xFF, 0xC3]
        for _ in 0..<3000 {
            let length = Int.random(in: 0...80, using: &random)
            let input = (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }
            _ = try? decode([input], limits: Self.limits)
            _ = try? IMAPParser(limits: Self.limits).parse(input)
        }
    }
}
