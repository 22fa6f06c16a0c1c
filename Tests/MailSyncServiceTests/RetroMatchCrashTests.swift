import Foundation
import MailSyncClient
import MailSyncStorage
import Testing
import TestSupport

/// The real `mailsync serve` process killed with SIGKILL while retro-match records a lead
/// import's past mail, then started again on the same data: every message recorded, counted and
/// put on its lead's timeline exactly once, and the queue drained.
@Suite("Sync engine: the server killed during retro-match", .timeLimit(.minutes(5)))
struct RetroMatchCrashTests {
    /// One address per search: every batch commits its own progress, so the kill lands between
    /// two of them (or inside one).
    static let settings = #"{"syncBatchSize": 25, "retroMatchAddressesPerSearch": 1, "retroMatchSearchesPerRun": 1000, "outboundAllow": ["127.0.0.1"]}"#

    static func counts(_ path: String) throws -> (recorded: Int64, entries: Int64, distinctKeys: Int64, counted: Int64, queued: Int64) {
        let db = try SQLiteConnection(path: path, mode: .open)
        defer { db.close() }
        return (try db.scalar("SELECT count(*) FROM mailbox_messages")?.int64 ?? -1,
                try db.scalar("SELECT count(*) FROM timeline_entries")?.int64 ?? -1,
                try db.scalar("SELECT count(DISTINCT message_key) FROM timeline_entries")?.int64 ?? -1,
                try db.scalar("SELECT coalesce(sum(recorded), 0) FROM daily_counts")?.int64 ?? -1,
                try db.scalar("SELECT count(*) FROM retro_queue")?.int64 ?? -1)
    }

    @Test("SIGKILL while retro-match records a lead import's past mail, restart: nothing lost, nothing recorded or counted twice")
    func killedDuringRetroMatch() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")]) { dovecot in
            let now = Date()
            let leads = 30
            let perLead = 20
            for i in 0..<(leads * perLead) {
                try await dovecot.append(
                    user: "alice",
                    message: "From: lead-\(i % leads)@retro.example\r\nTo: alice@acme.example\r\nSubject: Mail \(i)\r\nMessage-ID: <retro\(i)@r>\r\n\r\n"
                        + String(repeating: "body line \(i)\r\n", count: 20),
                    date: now.addingTimeInterval(-7200))
            }
            for i in 0..<10 {
                try await dovecot.append(
                    user: "alice", message: "From: jane@client.example\r\nTo: alice@acme.example\r\nSubject: Jane \(i)\r\nMessage-ID: <jane\(i)@c>\r\n\r\nhi\r\n",
                    date: now.addingTimeInterval(-3600))
            }
            try await dovecot.append(
                user: "alice", folder: "Sent",
                message: "From: alice@acme.example\r\nTo: jane@client.example\r\nSubject: To Jane\r\nMessage-ID: <sent@a>\r\n\r\nhi\r\n",
                date: now.addingTimeInterval(-3600))
            let first: Int64 = 11
            let expected = first + Int64(leads * perLead)
            let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-retro-crash-\(UUID().uuidString)").path
            defer {
                try? FileManager.default.removeItem(atPath: dataDirectory)
                try? FileManager.default.removeItem(atPath: dataDirectory + "-serve.json")
            }
            let operatorKey = try await SyncCrashTests.ServeProcess.operatorKey(dataDirectory: dataDirectory)

            // The first server: the company, the mailbox's first sync (Jane's mail), then the import.
            var server = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: Self.settings)
            defer { server.stop() }
            try await server.waitUntilServing()
            let (handle, tenantPath) = try await server.makeCompany("Retro Crash Co", operatorKey: operatorKey, dataDirectory: dataDirectory)
            let admin = handle.admin
            _ = try await admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: dovecot.port, secret: "s3cret"))
            try await waitUntil(.seconds(60)) {
                let db = try SQLiteConnection(path: tenantPath, mode: .open)
                defer { db.close() }
                return try db.scalar("SELECT count(*) FROM mailboxes WHERE last_synced_at IS NOT NULL")?.int64 == 1
            }
            #expect(try Self.counts(tenantPath).recorded == first)
            try await SyncFixture.upsertLeads(handle, (0..<leads).map { (id: "lead-\($0)", address: "lead-\($0)@retro.example") })
            #expect(try Self.counts(tenantPath).queued == Int64(leads))
            server.stop()
            // Due now (instead of one poll interval later) for the next server.
            let db = try SQLiteConnection(path: tenantPath, mode: .open)
            try db.run("UPDATE mailboxes SET next_sync_at = 0")
            db.close()

            // The second server runs the mailbox at once and is killed after its first
            // retro-matched commit, watched from a thread of its own.
            server = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: Self.settings)
            let serving = server
            SyncCrashTests.kill(serving, assoonAs: { ((try? Self.counts(tenantPath).recorded) ?? 0) > first })
            try await waitUntil(.seconds(120)) { !serving.process.isRunning }
            let afterKill = try Self.counts(tenantPath)
            #expect(afterKill.recorded > first && afterKill.recorded < expected, "killed at \(afterKill.recorded) of \(expected)")
            #expect(afterKill.recorded == afterKill.entries && afterKill.recorded == afterKill.counted)
            #expect(afterKill.queued > 0)

            // The third finishes it: what the killed run committed stays, the rest comes once.
            server = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: Self.settings)
            try await server.waitUntilServing()
            try await waitUntil(.seconds(60)) { try Self.counts(tenantPath).queued == 0 }
            let final = try Self.counts(tenantPath)
            #expect(final.recorded == expected)
            #expect(final.entries == expected)
            #expect(final.distinctKeys == expected)
            #expect(final.counted == expected)
        }
    }
}
