import Foundation
import MailSyncClient
import MailSyncSecurity
import MailSyncService
import MailSyncStorage
import Testing
import TestSupport

/// The machine lost mid-sync: `mailsync serve` SIGKILLed while a writer commits and a sync runs,
/// then the whole server restored from the backup target alone onto a new data directory.
@Suite("Backups off the machine: the server killed while shipping", .timeLimit(.minutes(5)))
struct RemoteBackupCrashTests {
    /// The bound on lost writes the settings promise (shipIntervalSeconds 0.2; maxLagSeconds 5).
    static let rpo: TimeInterval = 5

    @Test("SIGKILL during a sync and a stream of lead imports; restore from the bucket: every import acknowledged more than the RPO before the kill is there; the mail resync records each message once")
    func killedWhileShipping() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")]) { dovecot in
            let total = 2_000
            let now = Date()
            for i in 0..<total {
                try await dovecot.append(
                    user: "alice",
                    message: "From: jane@client.example\r\nTo: alice@acme.example\r\nSubject: Mail \(i)\r\nMessage-ID: <ship\(i)@c>\r\n\r\n"
                        + String(repeating: "body line \(i)\r\n", count: 20),
                    date: now.addingTimeInterval(-3600))
            }
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-shipcrash-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let key = BackupKey.generate()
            let environment = [BackupKey.environmentVariable: key.base64]
            let settings = #"{"syncBatchSize": 10, "outboundAllow": ["127.0.0.1"], "remoteBackup": {"directory": "\#(root)/bucket", "shipIntervalSeconds": 0.2}}"#
            let dataDirectory = root + "/data"
            let operatorKey = try await SyncCrashTests.ServeProcess.operatorKey(dataDirectory: dataDirectory)
            var server = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: settings, environment: environment)
            defer { server.stop() }
            try await server.waitUntilServing()
            let (handle, tenantPath) = try await server.makeCompany("Lost Machine Co", operatorKey: operatorKey, dataDirectory: dataDirectory)

            // A writer: one lead per call, each acknowledged at a recorded time.
            let acknowledged = Acknowledged()
            let writer = Task {
                for i in 0..<100_000 {
                    guard !Task.isCancelled else { return }
                    do {
                        try await SyncFixture.upsertLeads(handle, [(id: "imported\(i)", address: "imported\(i)@leads.example")])
                        acknowledged.append("imported\(i)")
                    } catch {
                        return  // the server is gone
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            // The writer runs longer than the RPO first; then the mailbox's first sync starts, and the
            // kill lands once it has committed some batches (of 2,000 messages, in tens).
            try await waitUntil(.seconds(60)) {
                acknowledged.all.first.map { Date().timeIntervalSince($0.at) > Self.rpo + 3 } ?? false
            }
            _ = try await handle.admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: dovecot.port, secret: "s3cret"))
            try await waitUntil(.seconds(120)) { ((try? SyncCrashTests.counts(tenantPath).recorded) ?? 0) >= 100 }
            server.kill()
            let killedAt = Date()
            writer.cancel()
            _ = await writer.value
            let recordedAtKill = try SyncCrashTests.counts(tenantPath).recorded

            // Another machine: the bucket (and the keys, kept apart) only.
            let config = root + "/restore.json"
            try Data(settings.utf8).write(to: URL(fileURLWithPath: config))
            let newData = root + "/new-machine"
            let restored = try await CommandRunner.run(["remote", "restore", "--config", config, "--all", "--to", newData], environment: environment)
            try #require(restored.status == 0, "\(restored.errors)")
            try FileManager.default.copyItem(atPath: dataDirectory + "/secret.key", toPath: newData + "/secret.key")
            let restoredTenant = DataDirectory(newData).tenantDatabasePath(try #require(TenantID(validating: handle.id)))
            let present: Set<String> = try {
                let db = try SQLiteConnection(path: restoredTenant, mode: .open)
                defer { db.close() }
                return Set(try db.query("SELECT id FROM leads").compactMap { $0[0].string })
            }()
            let due = acknowledged.all.filter { killedAt.timeIntervalSince($0.at) > Self.rpo }
            #expect(!due.isEmpty, "the writer ran long enough before the kill")
            let missing = due.filter { !present.contains($0.id) }
            #expect(missing.isEmpty, "acknowledged more than \(Self.rpo) s before the kill but not restored: \(missing.prefix(5))")
            let restoredRecorded = try SyncCrashTests.counts(restoredTenant)
            #expect(restoredRecorded.recorded <= recordedAtKill)
            #expect(recordedAtKill < Int64(total), "killed mid-sync")
            #expect(restoredRecorded.recorded == restoredRecorded.entries)

            // The restored server syncs again from its restored cursors: each message once.
            server = try SyncCrashTests.ServeProcess(dataDirectory: newData, settings: settings, environment: environment)
            try await server.waitUntilServing()
            var final = try SyncCrashTests.counts(restoredTenant)
            for _ in 0..<1200 where final.recorded < Int64(total) {
                try await Task.sleep(for: .milliseconds(50))
                final = try SyncCrashTests.counts(restoredTenant)
            }
            #expect(final.recorded == Int64(total))
            #expect(final.entries == Int64(total))
            #expect(final.distinctKeys == Int64(total))
        }
    }
}

/// Lead imports the server acknowledged, with when.
private final class Acknowledged: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(id: String, at: Date)] = []

    func append(_ id: String) { lock.withLock { entries.append((id: id, at: Date())) } }
    var all: [(id: String, at: Date)] { lock.withLock { entries } }
}
