import Foundation
import SchemaCompiler
import Testing

/// The `FuzzSchemaParser` target's inputs, replayed: every seed (`Fuzz/Corpus/FuzzSchemaParser/`:
/// pieces of Schema/mailsync.msrpc, the test schema, the broken schemas of these tests) and kept
/// crasher through the target's checks (docs/fuzzing.md). The checks repeat
/// `Fuzz/Sources/FuzzSchemaParser`: change both together.
@Suite("Fuzz regressions: schema parser")
struct SchemaParserFuzzRegressionTests {
    @Test("FuzzSchemaParser: every input checks without a trap, diagnostics inside the text, a clean schema generates")
    func schemas() throws {
        let inputs = try fuzzInputs("FuzzSchemaParser")
        #expect(inputs.count >= 20)
        var clean = 0
        var broken = 0
        for (name, input) in inputs {
            let text = String(decoding: input, as: UTF8.self)
            let source = SchemaSource(path: "fuzz.msrpc", text: text)
            let (_, diagnostics) = Generator.check(source)
            let lines = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            for diagnostic in diagnostics {
                #expect((1...lines + 1).contains(diagnostic.location.line) && diagnostic.location.column >= 1, "\(name): \(diagnostic)")
            }
            if diagnostics.isEmpty {
                clean += 1
                #expect(throws: Never.self, "\(name)") { _ = try Generator.generate(source) }
            } else {
                broken += 1
            }
            if name.contains("/broken-") { #expect(!diagnostics.isEmpty, "\(name): a broken schema's seed checks clean") }
        }
        // Both sides are seeded: whole schemas that generate, and schemas with errors.
        #expect(clean >= 1)
        #expect(broken >= 10)
    }
}

/// The files of `Fuzz/Corpus/<target>/` and `Fuzz/Crashers/<target>/` (which may not exist), by name.
private func fuzzInputs(_ target: String, file: String = #filePath) throws -> [(name: String, bytes: [UInt8])] {
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
