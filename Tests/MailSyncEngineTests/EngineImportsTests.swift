import Foundation
import Testing

/// The engine and the tenant data depend on no part of the RPC side, and the tenant data not on
/// the engine. Package.swift leaves those targets out of their dependencies, but SwiftPM puts
/// every module of the package in one build directory, so an import of one already built can
/// still compile; this test reads their sources instead.
@Suite("Layer imports: the engine and the tenant data")
struct EngineImportsTests {
    static let forbidden = ["MailSyncRPC", "MailSyncTransport", "MailSyncClient", "MailSyncService", "MailSyncWire"]
    /// The tenant data may use the wire format's zlib (`MailSyncWire`), nothing above it.
    static let forbiddenInTenantData = ["MailSyncRPC", "MailSyncTransport", "MailSyncClient", "MailSyncService", "MailSyncEngine"]

    static func sources(_ target: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Sources/\(target)").standardized
    }

    static var engineSources: URL { sources("MailSyncEngine") }

    @Test("no tenant-data source imports the RPC layer, the transport, the generated client, the service or the engine")
    func tenantDataImports() throws {
        let root = Self.sources("MailSyncTenantData")
        let files = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 20, "found \(files.count) sources under \(root.path)")
        for file in files {
            let bad = Self.importedModules(try String(contentsOf: file, encoding: .utf8)).filter(Self.forbiddenInTenantData.contains)
            #expect(bad.isEmpty, "\(file.lastPathComponent) imports \(bad)")
        }
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
