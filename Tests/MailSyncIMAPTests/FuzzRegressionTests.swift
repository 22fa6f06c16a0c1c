import Foundation
import MailSyncIMAP
import Testing

/// The fuzz targets' inputs, replayed: every seed (`Fuzz/Corpus/<target>/`) and every kept crasher
/// (`Fuzz/Crashers/<target>/`) goes through the same checks as in `Fuzz/Sources/<target>/`, so
/// the corpora stay parseable without traps and a fixed crash stays fixed (docs/fuzzing.md).
@Suite("Fuzz regressions: IMAP responses and RFC 2047")
struct FuzzRegressionTests {
    @Test("FuzzIMAPResponse: every input decodes the same whole, in the fuzzer's two pieces and byte by byte")
    func imapResponses() throws {
        let inputs = try fuzzInputs("FuzzIMAPResponse")
        #expect(inputs.count >= 10)
        for (name, input) in inputs {
            guard let control = input.first else { continue }
            let stream = Array(input.dropFirst())
            let limits = control & 0x80 != 0
                ? IMAPLimits(maxLineLength: 200, maxLiteralSize: 300, maxNestingDepth: 6)
                : IMAPLimits()
            let budget = control & 0x40 != 0 ? IMAPByteBudget(maxBytes: 1500, maxLiteralSize: 200) : nil
            let split = Int(control & 0x3F) * stream.count / 0x3F
            let twoPieces = reference([stream[..<split], stream[split...]], limits: limits, budget: budget)
            #expect(reference(stream.map { [$0][...] }, limits: limits, budget: budget) == twoPieces, "\(name): byte by byte")
            #expect(twoPieces.outcomes.count <= stream.count + 1, "\(name): more outcomes than bytes")

            // The decoder, fed the whole stream, gives the same outcomes, then wants more bytes or,
            // after a framing error, throws it again.
            var decoder = IMAPResponseDecoder(limits: limits)
            decoder.budget = budget
            decoder.append(stream)
            let whole = (0...twoPieces.outcomes.count).map { _ in outcome(&decoder) }
            #expect(decoder.budget?.used == twoPieces.budgetUsed, "\(name): budget charged")
            #expect(Array(whole.dropLast()) == twoPieces.outcomes.map(Optional.some), "\(name): whole")
            #expect(whole.last == .some(twoPieces.framingFailed ? twoPieces.outcomes.last : nil), "\(name): after the last outcome")
        }
    }

    @Test("a literal header mid-line over the size limit is one response's error, not a framing failure (fuzz harness crasher)")
    func literalTooLargeMidLine() {
        let limits = IMAPLimits(maxLineLength: 200, maxLiteralSize: 300, maxNestingDepth: 6)
        let result = reference([bytes("* 1 FETCH (BODY[] {99999}x\r\n* OK still here\r\n")[...]], limits: limits, budget: nil)
        #expect(result.outcomes == ["error: literalTooLarge", "\(IMAPResponse.untagged(.status(StatusResponse(condition: .ok, text: "still here"))))"])
        #expect(!result.framingFailed)
    }

    @Test("FuzzRFC2047: every input decodes; text without an encoded word comes back unchanged")
    func rfc2047() throws {
        let inputs = try fuzzInputs("FuzzRFC2047")
        #expect(inputs.count >= 5)
        for (name, input) in inputs {
            let text = String(decoding: input, as: UTF8.self)
            let decoded = RFC2047.decode(text)
            if !text.contains("=?") { #expect(decoded == text, "\(name)") }
            #expect(decoded.utf8.count <= 3 * input.count + 16, "\(name): \(decoded.utf8.count) bytes from \(input.count)")
        }
    }

    @Test("RFC 2047: many openings without a closing cost linear time (quadratic before: 26 s for 64 KiB in a fuzz build)")
    func rfc2047ManyOpenings() {
        // 256 KiB: about 5 * 10^9 steps when every opening searched to the end; well under a second now.
        for unit in ["=?c?q?x", "=?utf-8?q?x", "=?utf-8?b?QQ"] {
            for closed in [false, true] {
                let text = String(repeating: unit, count: 256 * 1024 / unit.utf8.count) + (closed ? "?=" : "")
                let clock = ContinuousClock()
                var decoded = ""
                let elapsed = clock.measure { decoded = RFC2047.decode(text) }
                #expect(elapsed < .seconds(20), "\(unit) closed: \(closed): \(elapsed)")
                #expect(decoded.utf8.count <= text.utf8.count, "\(unit)")
            }
        }
        // What those inputs decode to did not change: the first opening of a known charset takes
        // everything up to the closing; an unknown charset is left alone; base64 stops at the next opening.
        #expect(RFC2047.decode("=?utf-8?q?x=?utf-8?q?x?=") == "x=?utf-8?q?x")
        #expect(RFC2047.decode("=?c?q?x=?c?q?x?=") == "=?c?q?x=?c?q?x?=")
        #expect(RFC2047.decode("=?utf-8?b?QQ=?utf-8?b?QQ?=") == "=?utf-8?b?QQA")
    }

    /// Framer and parser by hand, fed `pieces`: every response (described) or error code until the
    /// framer wants more bytes or fails, as the fuzz target's reference does.
    private func reference(
        _ pieces: [ArraySlice<UInt8>], limits: IMAPLimits, budget: IMAPByteBudget?
    ) -> (outcomes: [String], framingFailed: Bool, budgetUsed: Int?) {
        var framer = IMAPResponseFramer(limits: limits)
        framer.budget = budget
        let parser = IMAPParser(limits: limits)
        var outcomes: [String] = []
        for piece in pieces {
            framer.append(piece)
            while true {
                let frame: [UInt8]
                do {
                    guard let next = try framer.nextResponse() else { break }
                    frame = next
                } catch {
                    outcomes.append("error: \(error.code)")
                    return (outcomes, true, framer.budget?.used)
                }
                do {
                    outcomes.append("\(try parser.parse(frame))")
                } catch {
                    outcomes.append("error: \(error.code)")
                }
            }
        }
        return (outcomes, false, framer.budget?.used)
    }

    /// The decoder's next response (described) or error code; nil when it wants more bytes.
    private func outcome(_ decoder: inout IMAPResponseDecoder) -> String? {
        do {
            return try decoder.next().map { "\($0)" }
        } catch {
            return "error: \(error.code)"
        }
    }
}

/// The files of `Fuzz/Corpus/<target>/` and `Fuzz/Crashers/<target>/` (which may not exist), by name.
func fuzzInputs(_ target: String, file: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
    let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var inputs: [(name: String, bytes: [UInt8])] = []
    for folder in ["Corpus", "Crashers"] {
        let directory = root.appendingPathComponent("Fuzz/\(folder)/\(target)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { continue }
        for name in names.sorted() where !name.hasPrefix(".") {
            inputs.append(("\(folder)/\(target)/\(name)", Array(try Data(contentsOf: directory.appendingPathComponent(name)))))
        }
    }
    return inputs
}
