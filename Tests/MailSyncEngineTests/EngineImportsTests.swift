import Foundation
import Testing

/// The engine depends on no part of the RPC side. Package.swift leaves those targets out of its
/// dependencies, but SwiftPM puts every module of the package in one build directory, so an
/// import of one already built can still compile; this test reads the engine's sources instead.
@Suite("Sync engine imports")
struct EngineImportsTests {
    static let forbidden = ["MailSyncRPC", "MailSyncTransport", "MailSyncClient", "MailSyncService", "MailSyncWire"]

    static var engineSources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/MailSyncEngine").standardized
    }

    /// `import X`, `public import X`, `@testable import X`, `import struct X.Y`: the module named.
    static func importedModules(_ source: String) -> [String] {
        source.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ").map(String.init).filter { !$0.hasPrefix("@") }
            guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                  words[..<index].allSatisfy({ ["public", "package", "internal", "private", "fileprivate"].contains($0) })
            else { return nil }
            let kinds: Set = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"]
            let name = kinds.contains(words[index + 1]) && index + 2 < words.count ? words[index + 2] : words[index + 1]
            return String(name.split(separator: ".").first ?? "")
        }
    }

    @Test("no engine source imports the RPC layer, the transport, the wire, the generated client or the service")
    func noRPCImports() throws {
        let files = try #require(FileManager.default.enumerator(at: Self.engineSources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 20, "found \(files.count) sources under \(Self.engineSources.path)")
        for file in files {
            let modules = Self.importedModules(try String(contentsOf: file, encoding: .utf8))
            let bad = modules.filter(Self.forbidden.contains)
            #expect(bad.isEmpty, "\(file.lastPathComponent) imports \(bad)")
        }
    }

    @Test("the import reader finds the module in each form of import")
    func readsImports() {
        let source = "import Foundation\npublic import MailSyncRPC\n@testable import MailSyncClient\nimport struct MailSyncWire.FrameHeader\n// import Nothing\n"
        #expect(Self.importedModules(source) == ["Foundation", "MailSyncRPC", "MailSyncClient", "MailSyncWire"])
    }
}
