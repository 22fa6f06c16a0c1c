import SchemaCompiler

/// The schema compiler's lexer, parser and checker (`Generator.check`) on arbitrary text: errors
/// are diagnostics, never a trap. Every diagnostic points into the text (line 1 to the line count
/// + 1, column ≥ 1). A schema without diagnostics goes on through the Swift emitter, which must
/// accept it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let source = SchemaSource(path: "fuzz.msrpc", text: text)
    let (_, diagnostics) = Generator.check(source)
    let lines = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    for diagnostic in diagnostics {
        let location = diagnostic.location
        guard (1...lines + 1).contains(location.line), location.column >= 1 else {
            fatalError("a diagnostic outside the text (\(lines) lines): \(diagnostic)")
        }
    }
    if diagnostics.isEmpty {
        do {
            _ = try Generator.generate(source)
        } catch {
            fatalError("a schema that checks without diagnostics fails to generate: \(error)")
        }
    }
    return 0
}
