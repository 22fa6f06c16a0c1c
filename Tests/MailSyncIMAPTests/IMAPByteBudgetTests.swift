import MailSyncIMAP
import Testing

/// The per-response limit (`IMAPLimits.maxResponseSize`) and the per-command byte budget
/// (`IMAPByteBudget`), fed whole, byte by byte and in random chunks, each limit just under and
/// just over.
@Suite("IMAPByteBudget and maxResponseSize")
struct IMAPByteBudgetTests {
    /// Frames `chunks` under `budget`; the budget after, or the error.
    static func run(_ chunks: [[UInt8]], limits: IMAPLimits = IMAPLimits(), budget: IMAPByteBudget?) -> Result<(frames: Int, budget: IMAPByteBudget?), IMAPError> {
        var framer = IMAPResponseFramer(limits: limits)
        framer.budget = budget
        var count = 0
        do throws(IMAPError) {
            for chunk in chunks {
                framer.append(chunk)
                while try framer.nextResponse() != nil { count += 1 }
            }
            return .success((count, framer.budget))
        } catch {
            return .failure(error)
        }
    }

    /// One FETCH response with two 10-byte literals, then a tagged OK.
    static let twoLiterals = bytes("* 1 FETCH (UID 7 BODY[] {10}\r\n0123456789 BODY[1] {10}\r\nabcdefghij)\r\na1 OK done\r\n")
    /// The response's text up to and including the second literal's header: the point where
    /// `maxResponseSize` is checked for the second literal.
    static let textBeforeSecondLiteral = "* 1 FETCH (UID 7 BODY[] {10}".utf8.count + " BODY[1] {10}".utf8.count

    @Test("a response of text and literals exactly at maxResponseSize passes, one byte more is refused from the literal's header")
    func responseSize() {
        let atLimit = Self.textBeforeSecondLiteral + 20
        for chunks in chunkings(of: Self.twoLiterals, randomRuns: 10) {
            let fits = Self.run(chunks, limits: IMAPLimits(maxLiteralSize: 10, maxResponseSize: atLimit), budget: nil)
            #expect((try? fits.get().frames) == 2)
            let over = Self.run(chunks, limits: IMAPLimits(maxLiteralSize: 10, maxResponseSize: atLimit - 1), budget: nil)
            guard case .failure(let error) = over else { Issue.record("not refused"); continue }
            #expect(error.code == .responseTooLarge)
            #expect(error.limit == atLimit - 1)
            #expect(error.size == atLimit)
        }
    }

    @Test("the response limit refuses a literal before any of its bytes arrive")
    func responseLimitBeforeBytes() throws {
        var framer = IMAPResponseFramer(limits: IMAPLimits(maxLiteralSize: 100, maxResponseSize: 150))
        framer.append(bytes("* 1 FETCH (BODY[] {100}\r\n"))
        #expect(try framer.nextResponse() == nil)
        framer.append([UInt8](repeating: 0x61, count: 100) + bytes(" BODY[1] {100}\r\n"))
        #expect { try framer.nextResponse() } throws: { ($0 as? IMAPError)?.code == .responseTooLarge }
    }

    @Test("the default response limit is the literal limit plus 1 MiB: 16 literals of 50 MiB stop at the second header")
    func defaultResponseLimit() {
        #expect(IMAPLimits().maxResponseSize == 50 * 1024 * 1024 + 1024 * 1024)
        #expect(IMAPLimits(maxLiteralSize: .max).maxResponseSize == .max)
        var framer = IMAPResponseFramer()
        framer.append(bytes("* 1 FETCH (BODY[] {52428800}\r\n"))
        #expect((try? framer.nextResponse()) == .some(nil))
        framer.append([UInt8](repeating: 0x61, count: 52_428_800))
        framer.append(bytes(" BODY[1] {52428800}\r\n"))
        #expect { try framer.nextResponse() } throws: { ($0 as? IMAPError)?.code == .responseTooLarge }
    }

    @Test("a budget is charged every byte plus 256 per response: exactly enough passes, one byte less fails")
    func exactBudget() {
        let transcript = bytes("* OK [CAPABILITY IMAP4rev1] hi\r\n\r\n") + Self.twoLiterals + bytes("* 3 EXISTS\n")
        let cost = transcript.count + 4 * IMAPByteBudget.responseCost
        for chunks in chunkings(of: transcript, randomRuns: 10) {
            let fits = Self.run(chunks, budget: IMAPByteBudget(maxBytes: cost))
            guard case .success(let result) = fits else { Issue.record("refused: \(fits)"); continue }
            #expect(result.frames == 4)
            #expect(result.budget?.used == cost)
            #expect(result.budget?.remaining == 0)
            let over = Self.run(chunks, budget: IMAPByteBudget(maxBytes: cost - 1))
            guard case .failure(let error) = over else { Issue.record("not refused"); continue }
            #expect(error.code == .overBudget)
            #expect(error.limit == cost - 1)
        }
    }

    @Test("a literal at the budget's literal size passes, one byte over is refused from its header")
    func literalSize() {
        for chunks in chunkings(of: Self.twoLiterals, randomRuns: 10) {
            #expect((try? Self.run(chunks, budget: IMAPByteBudget(maxBytes: 10_000, maxLiteralSize: 10)).get().frames) == 2)
            let over = Self.run(chunks, budget: IMAPByteBudget(maxBytes: 10_000, maxLiteralSize: 9))
            guard case .failure(let error) = over else { Issue.record("not refused"); continue }
            #expect(error.code == .literalOverBudget)
            #expect(error.size == 10)
            #expect(error.limit == 9)
        }
    }

    @Test("a literal over the budget is refused from its header, with nothing of it buffered")
    func refusedBeforeBuffering() {
        var framer = IMAPResponseFramer()
        framer.budget = IMAPByteBudget(maxBytes: 1_000)
        framer.append(bytes("* 1 FETCH (UID 1 BODY[] {52428800}\r\n"))
        #expect { try framer.nextResponse() } throws: { error in
            let error = error as? IMAPError
            return error?.code == .overBudget && error?.limit == 1_000
        }
        // Sticky: the framing is lost, whatever comes next.
        framer.append(bytes("a1 OK done\r\n"))
        #expect(throws: IMAPError.self) { try framer.nextResponse() }
    }

    @Test("many tiny responses run out of budget: each costs 256 more than its bytes")
    func tinyResponses() {
        let line = bytes("* OK x\r\n")
        let flood = Array([[UInt8]](repeating: line, count: 1000).joined())
        let perLine = line.count + IMAPByteBudget.responseCost
        #expect((try? Self.run([flood], budget: IMAPByteBudget(maxBytes: 1000 * perLine)).get().frames) == 1000)
        guard case .failure(let error) = Self.run([flood], budget: IMAPByteBudget(maxBytes: 1000 * perLine - 1)) else {
            Issue.record("not refused")
            return
        }
        #expect(error.code == .overBudget)
    }

    @Test("empty lines are charged too: an endless CRLF stream cannot run for free")
    func emptyLines() {
        let blanks = Array([[UInt8]](repeating: bytes("\r\n"), count: 600).joined())
        guard case .failure(let error) = Self.run([blanks], budget: IMAPByteBudget(maxBytes: 1_000)) else {
            Issue.record("not refused")
            return
        }
        #expect(error.code == .overBudget)
    }

    @Test("no budget: only the limits apply; a new budget starts from zero")
    func replacingTheBudget() throws {
        var decoder = IMAPResponseDecoder()
        decoder.append(bytes("* 1 EXISTS\r\n"))
        #expect(try decoder.next() == .untagged(.exists(1)))
        decoder.budget = IMAPByteBudget(maxBytes: 12 + IMAPByteBudget.responseCost)
        decoder.append(bytes("* 2 EXISTS\r\n"))
        #expect(try decoder.next() == .untagged(.exists(2)))
        #expect(decoder.budget?.remaining == 0)
        decoder.budget = IMAPByteBudget(maxBytes: 12 + IMAPByteBudget.responseCost)
        decoder.append(bytes("* 3 EXISTS\r\n"))
        #expect(try decoder.next() == .untagged(.exists(3)))
    }

    @Test("negative or absurd budget values never trap")
    func absurdValues() {
        #expect(IMAPByteBudget(maxBytes: -5).maxBytes == 0)
        let result = Self.run([bytes("* 1 FETCH (BODY[] {99999999999999999999999}\r\n")], limits: IMAPLimits(maxLiteralSize: .max), budget: IMAPByteBudget(maxBytes: .max))
        guard case .failure(let error) = result else { Issue.record("not refused"); return }
        #expect(error.code == .responseTooLarge || error.code == .literalTooLarge)
    }
}
