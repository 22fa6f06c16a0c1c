import Foundation
import MailSyncClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The real `mailsync serve` process syncing a mailbox on a hostile IMAP server: its own peak
/// resident size (read from /proc/<pid>/status, so other suites running in this process do not
/// count) stays within a bound far below what the server offered, and the error log says why.
@Suite("Bounded replies: the server process under a flood")
struct BoundedRepliesProcessTests {
    struct FloodCase: Sendable, CustomTestStringConvertible {
        var name: String
        var mode: HostileIMAPServer.Mode
        var expected: String
        var maxGrowth: Int
        var testDescription: String { name }
    }

    static let floods: [FloodCase] = [
        FloodCase(
            name: "16 literals of 25 MiB (419 MB) in one FETCH reply",
            mode: .literalFlood(literals: 16, literalSize: 25 << 20),
            expected: "bytes in its reply to the bodies of 1 message (26,214,400 bytes announced)", maxGrowth: 150_000_000),
        FloodCase(
            name: "3,000,000 `* OK x` lines (24 MB) during LIST",
            mode: .untaggedFlood(lines: 3_000_000, during: "LIST"),
            expected: "sent more than 100,000 responses nobody asked for while answering LIST", maxGrowth: 50_000_000),
    ]

    @Test("mailsync serve stays small while a hostile IMAP server floods a mailbox's sync", arguments: floods)
    func flood(_ flood: FloodCase) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        let server = try HostileIMAPServer.start(mode: flood.mode, messages: [HostileMailboxFixture.mail(uid: 1)])
        defer { server.stop() }
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-flood-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try? FileManager.default.removeItem(atPath: dataDirectory + "-serve.json")
        }
        let (_, output, _) = try await CommandRunner.run(["keys", "create-operator", "--data-dir", dataDirectory, "--json"])
        let operatorKey = try #require((try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])?["secret"])

        let serve = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory)
        defer { serve.stop() }
        try await serve.waitUntilServing()
        let pid = serve.process.processIdentifier
        let operatorClient = MailSync.connect(host: "127.0.0.1", port: serve.port, apiKey: operatorKey).0
        var create = CreateCompanyRequest()
        create.name = "Flooded Co"
        create.plan = .essential
        create.administrator.id = "alice"
        create.administrator.name = "Alice"
        create.administrator.email = HostileMailboxFixture.owner
        let company = try await operatorClient.createCompany(create)
        var keyRequest = CreateApiKeyRequest()
        keyRequest.companyId = company.id
        keyRequest.userId = "alice"
        let admin = MailSync.connect(host: "127.0.0.1", port: serve.port, apiKey: try await operatorClient.createApiKey(keyRequest).secret).0
        try await SyncFixture.upsertLeads(.init(id: company.id, adminUserID: "alice", adminKey: "", admin: admin), [HostileMailboxFixture.lead])

        ProcessMemory.resetPeak(pid: pid)
        let before = try #require(ProcessMemory.resident(pid: pid), "no /proc/\(pid)/status")
        // The server's own loop syncs a new mailbox within a second or so.
        let mailbox = try await admin.createMailboxConnection(
            SyncFixture.connectRequest(email: HostileMailboxFixture.owner, username: "alice", port: server.port, secret: "any"))
        var status = try await admin.getMailboxStatus(MailboxFixtures.get(mailbox.id))
        let deadline = ContinuousClock.now + .seconds(60)
        while status.mailbox.status != .error, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            status = try await admin.getMailboxStatus(MailboxFixtures.get(mailbox.id))
        }
        let peak = try #require(ProcessMemory.peak(pid: pid))
        print("mailsync serve, \(flood.name): resident \(before / 1_000_000) MB before, peak \(peak / 1_000_000) MB")
        #expect(status.mailbox.status == .error)
        let error = try #require(status.lastError)
        #expect(error.errorClass == .temporary)
        #expect(error.serverText.contains("The IMAP server 127.0.0.1 "), "\(error.serverText)")
        #expect(error.serverText.contains(flood.expected), "\(error.serverText)")
        #expect(peak - before < flood.maxGrowth, "peak \(peak) bytes, \(before) before")
    }
}
