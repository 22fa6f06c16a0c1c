import Foundation
import MailSyncClient
import MailSyncSecurity
import MailSyncService
import Testing
import TestSupport

/// `mailsync keys create-operator`, the real executable, and its key used through the API.
@Suite("mailsync keys create-operator", .timeLimit(.minutes(5)))
struct KeysCommandTests {
    static let binary = ServerProcessTests.repoRoot.appendingPathComponent(".build/debug/mailsync")

    /// Runs the command on a thread of its own (``OffPool``): the server it may touch runs here.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await OffPool.output(of: binary.path, arguments)
    }

    @Test("the printed secret is an operator key the server accepts; the command works beside a running server")
    func createOperatorKey() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first (swift build)")
        let harness = try await ServiceHarness.start()
        let (status, output) = try await Self.run(["keys", "create-operator", "--data-dir", harness.dataDirectory, "--label", "ops", "--json"])
        #expect(status == 0, "\(output)")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String]
        let secret = try #require(json?["secret"])
        let companies = try await harness.client(key: secret).listCompanies(ListCompaniesRequest())
        #expect(companies.companies.isEmpty)
        let keys = try await harness.operatorClient.listApiKeys(ListApiKeysRequest())
        #expect(keys.keys.contains { $0.label == "ops" && $0.role == "operator" && !secret.isEmpty && !$0.secretPrefix.isEmpty })
        await harness.stop()
    }

    @Test("create-backup-key writes 32 bytes with mode 0600 and prints the fingerprint the key has; an existing file is never replaced")
    func createBackupKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-bk-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/backup.key"
        let (status, output) = try await Self.run(["keys", "create-backup-key", "--out", path])
        #expect(status == 0, "\(output)")
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect((attributes[.size] as? NSNumber)?.intValue == 32)
        let key = try #require(try BackupKey.load(file: path, environment: [:]))
        #expect(output.contains(key.fingerprintHex))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let (again, message) = try await Self.run(["keys", "create-backup-key", "--out", path])
        #expect(again != 0)
        #expect(message.contains("never replaced"), "\(message)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("a data directory that cannot be created is refused with a message, exit code non-zero")
    func badDataDirectory() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first (swift build)")
        let (status, output) = try await Self.run(["keys", "create-operator", "--data-dir", "/proc/nope/data"])
        #expect(status != 0)
        #expect(!output.isEmpty)
        #expect(!output.contains("msk_"))
    }
}
