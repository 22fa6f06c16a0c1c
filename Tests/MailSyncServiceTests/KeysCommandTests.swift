import Foundation
import MailSyncClient
import MailSyncService
import Testing

/// `mailsync keys create-operator`, the real executable, and its key used through the API.
@Suite("mailsync keys create-operator", .timeLimit(.minutes(5)))
struct KeysCommandTests {
    static let binary = ServerProcessTests.repoRoot.appendingPathComponent(".build/debug/mailsync")

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("the printed secret is an operator key the server accepts; the command works beside a running server")
    func createOperatorKey() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first (swift build)")
        let harness = try await ServiceHarness.start()
        let (status, output) = try Self.run(["keys", "create-operator", "--data-dir", harness.dataDirectory, "--label", "ops", "--json"])
        #expect(status == 0, "\(output)")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String]
        let secret = try #require(json?["secret"])
        let companies = try await harness.client(key: secret).listCompanies(ListCompaniesRequest())
        #expect(companies.companies.isEmpty)
        let keys = try await harness.operatorClient.listApiKeys(ListApiKeysRequest())
        #expect(keys.keys.contains { $0.label == "ops" && $0.role == "operator" && !secret.isEmpty && !$0.secretPrefix.isEmpty })
        await harness.stop()
    }

    @Test("a data directory that cannot be created is refused with a message, exit code non-zero")
    func badDataDirectory() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first (swift build)")
        let (status, output) = try Self.run(["keys", "create-operator", "--data-dir", "/proc/nope/data"])
        #expect(status != 0)
        #expect(!output.isEmpty)
        #expect(!output.contains("msk_"))
    }
}
