import Foundation
import MailSyncClient
import Testing
import TestSupport

/// A backup taken while the sync engine records mail into the same company: the snapshot is one
/// committed state (every batch there with its folder cursor, or neither), and a sync after
/// restoring it picks up exactly where the snapshot stood.
@Suite("Backups while a sync writes", .timeLimit(.minutes(5)))
struct BackupDuringSyncTests {
    @Test("backup mid-sync, restore it: the cursor and the recorded mail agree; syncing on records the rest exactly once")
    func backupDuringSync() async throws {
        var sync = ServiceHarness.syncSettings()
        sync.headersPerBatch = 50
        try await SyncFixture.with(leads: [(id: "lead-1", address: "jane@client.example")], sync: sync) { fixture in
            let total = 1500
            for i in 0..<total {
                // UID i+1; every third message (i % 3 == 0) comes from the lead.
                let from = i % 3 == 0 ? "jane@client.example" : "other\(i)@nowhere.example"
                try await fixture.dovecot.append(
                    user: "alice",
                    message: "From: \(from)\r\nTo: \(SyncFixture.owner)\r\nSubject: Mail \(i)\r\nMessage-ID: <bk\(i)@c>\r\n\r\nbody \(i)\r\n",
                    date: fixture.daysAgo(1))
            }
            let expected = Int64((0..<total).filter { $0 % 3 == 0 }.count)
            let run = Task { await fixture.harness.runSyncs() }
            try await waitUntil(.seconds(60)) { try await fixture.count("SELECT count(*) FROM mailbox_messages") >= 10 }
            var request = BackupTenantRequest()
            request.companyId = fixture.company.id
            let backup = try await fixture.harness.operatorClient.backupTenant(request)
            _ = await run.value
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == expected)

            var verify = VerifyBackupRequest()
            verify.backupId = backup.id
            #expect(try await fixture.harness.operatorClient.verifyBackup(verify).ok)
            var restore = RestoreTenantRequest()
            restore.backupId = backup.id
            restore.companyId = fixture.company.id
            _ = try await fixture.harness.operatorClient.restoreTenant(restore)

            // The snapshot: a whole number of batches, each with its cursor.
            let recorded = try await fixture.count("SELECT count(*) FROM mailbox_messages")
            let cursor = try await fixture.count("SELECT coalesce(max(highest_uid), 0) FROM folder_cursors WHERE folder = 'INBOX'")
            #expect(recorded < expected, "the backup came after the sync finished; nothing was tested")
            #expect(recorded == (cursor + 2) / 3, "cursor \(cursor) but \(recorded) recorded")
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == recorded)

            // Syncing on from the restored state records the rest, nothing twice.
            var resync = SyncNowRequest()
            resync.mailboxId = fixture.mailboxID
            _ = try await fixture.company.admin.syncNow(resync)
            await fixture.advanceAndSync(seconds: 3600)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == expected)
            #expect(try await fixture.count("SELECT count(DISTINCT message_key) FROM timeline_entries") == expected)
        }
    }
}
