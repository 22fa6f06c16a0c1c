import Foundation
import MailSyncClient
import MailSyncStorage
import Testing
import TestSupport

/// The real `mailsync serve` process with IMAP IDLE on, killed with SIGKILL while runs that its
/// IDLE watcher asked for are recording mail, then started again on the same data: every message
/// recorded exactly once (the IDLE path uses the same batches as polling).
@Suite("IDLE: the server killed mid-batch", .timeLimit(.minutes(5)))
struct IdleCrashTests {
    @Test("SIGKILL while IDLE-woken runs record, restart with IDLE: nothing lost, nothing duplicated")
    func killedWhileIdleRunsRecord() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        let options = DovecotServer.Options(extraConfig: "mailbox_idle_check_interval = 1 secs\n")
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")], options: options) { dovecot in
            let total = 2000
            let expected = Int64(total / 2)
            let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-idle-crash-\(UUID().uuidString)").path
            defer {
                try? FileManager.default.removeItem(atPath: dataDirectory)
                try? FileManager.default.removeItem(atPath: dataDirectory + "-serve.json")
            }
            let operatorKey = try await SyncCrashTests.ServeProcess.operatorKey(dataDirectory: dataDirectory)
            let settings = #"{"syncBatchSize": 25, "outboundAllow": ["127.0.0.1"], "imapIdle": true}"#

            var server = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: settings)
            defer { server.stop() }
            try await server.waitUntilServing()
            let (handle, tenantPath) = try await server.makeCompany("Idle Crash Co", operatorKey: operatorKey, dataDirectory: dataDirectory)
            let admin = handle.admin
            _ = try await admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: dovecot.port, secret: "s3cret"))
            // The first sync (of an empty INBOX) is done once INBOX has a cursor; the next poll
            // is 5 minutes away, so from here on only the watcher makes runs happen.
            try await waitUntil(.seconds(30)) {
                guard FileManager.default.fileExists(atPath: tenantPath) else { return false }
                return try Self.cursors(tenantPath) > 0
            }

            let serving = server
            SyncCrashTests.kill(serving, assoonAs: {
                ((try? SyncCrashTests.counts(tenantPath).recorded) ?? 0) > 0
            })
            let now = Date()
            for i in 0..<total {
                let from = i % 2 == 0 ? "jane@client.example" : "other\(i)@nowhere.example"
                try await dovecot.append(
                    user: "alice",
                    message: "From: \(from)\r\nTo: alice@acme.example\r\nSubject: Mail \(i)\r\nMessage-ID: <idlecrash\(i)@c>\r\n\r\n"
                        + String(repeating: "body line \(i)\r\n", count: 20),
                    date: now.addingTimeInterval(-3600))
            }
            try await waitUntil(.seconds(120)) { !serving.process.isRunning }
            let afterKill = try SyncCrashTests.counts(tenantPath)
            #expect(afterKill.recorded > 0 && afterKill.recorded < expected, "killed at \(afterKill.recorded) of \(expected)")
            #expect(afterKill.recorded == afterKill.entries)

            // Restarted: the watcher starts from the schedule, asks for a run, and that run
            // (not a poll: the next is minutes away) records the rest.
            server = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: settings)
            try await server.waitUntilServing()
            var final = try SyncCrashTests.counts(tenantPath)
            for _ in 0..<1200 where final.recorded < expected {
                try await Task.sleep(for: .milliseconds(50))
                final = try SyncCrashTests.counts(tenantPath)
            }
            #expect(final.recorded == expected)
            #expect(final.entries == expected)
            #expect(final.distinctKeys == expected)
        }
    }

    static func cursors(_ path: String) throws -> Int64 {
        let db = try SQLiteConnection(path: path, mode: .open)
        defer { db.close() }
        return try db.scalar("SELECT count(*) FROM folder_cursors")?.int64 ?? 0
    }
}
