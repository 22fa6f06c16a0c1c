import Foundation
import MailSyncMatching
import Testing

/// The fuzz target FuzzMailBodyText's inputs, replayed: every seed (`Fuzz/Corpus/FuzzMailBodyText/`)
/// and every kept crasher (`Fuzz/Crashers/FuzzMailBodyText/`) goes through the same checks as in
/// `Fuzz/Sources/FuzzMailBodyText/` (docs/fuzzing.md).
@Suite("Fuzz regressions: MIME body text")
struct FuzzRegressionTests {
    @Test("FuzzMailBodyText: every input yields text at most 3 bytes per message byte (plus 16)")
    func mailBodyText() throws {
        let inputs = try fuzzInputs("FuzzMailBodyText")
        #expect(inputs.count >= 10)
        for (name, input) in inputs {
            let text = MailBodyText.extract(input)
            #expect(text.utf8.count <= 3 * input.count + 16, "\(name): \(text.utf8.count) bytes from \(input.count)")
        }
    }

    @Test("the seeds reach their charsets and encodings: Shift_JIS in base64, Windows-1251 in quoted-printable, HTML")
    func seedsAreMeaningful() throws {
        let inputs = Dictionary(try fuzzInputs("FuzzMailBodyText").map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        #expect(inputs["Corpus/FuzzMailBodyText/shift-jis-base64"].map(MailBodyText.extract)?.contains("こんにちは") == true)
        #expect(inputs["Corpus/FuzzMailBodyText/windows-1251-qp"].map(MailBodyText.extract)?.contains("Привет!") == true)
        #expect(inputs["Corpus/FuzzMailBodyText/alternative-qp-base64"].map(MailBodyText.extract)?.contains("Café au lait") == true)
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
