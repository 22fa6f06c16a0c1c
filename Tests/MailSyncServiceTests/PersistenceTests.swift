import Foundation
import Logging
import MailSyncClient
import MailSyncRPC
import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import TestSupport
import Testing

/// Restarts, schema migrations, misplaced files, secrets in logs, and many tenants, against the
/// real server and real files.
@Suite("Persistence and tenants at scale", .timeLimit(.minutes(5)))
struct PersistenceTests {
    @Test("everything written survives a restart of the server on the same data directory")
    func restart() async throws {
        let first = try await ServiceHarness.start()
        let company = try await first.makeCompany(name: "Durable", domains: ["durable.example"])
        var limits = SetCompanyLimitsRequest()
        limits.limits.mailboxSyncLimit = 4
        limits.limits.minimumPollIntervalSeconds = 600
        _ = try await company.admin.setCompanyLimits(limits)
        await first.stop(keepData: true)

        let second = try await ServiceHarness.start(dataDirectory: first.dataDirectory)
        let admin = second.client(key: company.adminKey)  // the key itself survived
        let again = try await admin.setCompanyLimits({ var r = SetCompanyLimitsRequest(); r.limits = limits.limits; return r }())
        #expect(again.name == "Durable")
        #expect(again.limits.mailboxSyncLimit == 4)
        let listed = try await second.operatorClient.listCompanies(ListCompaniesRequest())
        #expect(listed.companies.map(\.id).contains(company.id))
        await second.stop()
    }

    @Test("a tenant file from an older schema version is migrated when first opened")
    func migratesOlderFile() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany(name: "Old")
        await harness.stop(keepData: true)

        // Rewind the tenant file to schema 1, as an older build left it.
        let tenant = TenantID(validating: company.id)!
        let path = DataDirectory(harness.dataDirectory).tenantDatabasePath(tenant)
        let db = try SQLiteConnection(path: path, mode: .open)
        // Undo version 12: every enum code back to the number versions 1 to 11 wrote.
        for rewrite in TenantMigration12.rewrites {
            let cases = rewrite.codes.map { "WHEN '\($0.code)' THEN \($0.old)" }.joined(separator: " ")
            try db.run("UPDATE \(rewrite.table) SET \(rewrite.column) = CASE \(rewrite.column) \(cases) END WHERE typeof(\(rewrite.column)) = 'text'")
        }
        #expect(try db.scalar("SELECT count(*) FROM users WHERE typeof(role) <> 'integer'")?.int64 == 0)
        // Undo versions 11 to 2 (Smart Mails sent per day, the retro-match queue, the provider
        // governor's usage, error exchanges, timeline date sources, create calls' idempotency
        // keys, OAuth sign-ins in progress, Smart Mail idempotency keys, the sync engine's tables
        // and columns, the folder cursors).
        try db.execute("""
            ALTER TABLE mailboxes DROP COLUMN usage_sends;
            DROP TABLE retro_queue; ALTER TABLE mailboxes DROP COLUMN retro_handled;
            ALTER TABLE mailboxes DROP COLUMN usage_day; ALTER TABLE mailboxes DROP COLUMN usage_bytes;
            ALTER TABLE mailboxes DROP COLUMN usage_commands; ALTER TABLE mailboxes DROP COLUMN deferred_until;
            ALTER TABLE mailboxes DROP COLUMN deferred_reason;
            ALTER TABLE error_log DROP COLUMN exchange;
            ALTER TABLE timeline_entries DROP COLUMN date_source;
            DROP TABLE idempotent_requests;
            DROP TABLE oauth_states; DROP TABLE smart_mail_sends;
            DROP INDEX mailboxes_next_sync; DROP INDEX timeline_lead_message;
            DROP TABLE timeline_sources; DROP TABLE mailbox_messages; DROP TABLE daily_counts;
            ALTER TABLE messages DROP COLUMN raw_zlib;
            ALTER TABLE mailboxes DROP COLUMN failing_since; ALTER TABLE mailboxes DROP COLUMN failed_attempts;
            ALTER TABLE mailboxes DROP COLUMN attempts_exhausted; ALTER TABLE mailboxes DROP COLUMN next_sync_at;
            ALTER TABLE mailboxes DROP COLUMN backfill_since;
            DROP TABLE folder_cursors;
            """)
        // Version 1 allowed one entry per lead, message and mailbox: two users' copies of one
        // email become one entry held by both mailboxes.
        try db.execute("""
            INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction)
            VALUES ('e1', 'lead', 'mid:x', 'mb1', 'u1', 'Hi', 1, 2), ('e2', 'lead', 'mid:x', 'mb2', 'u2', 'Hi', 1, 2);
            INSERT INTO opportunity_links VALUES ('e2', 'opp');
            """)
        try db.setUserVersion(1)
        db.close()

        let restarted = try await ServiceHarness.start(dataDirectory: harness.dataDirectory)
        _ = try await restarted.client(key: company.adminKey).getCompanySettings(GetCompanySettingsRequest())
        let adminUserID = company.adminUserID
        let version = try await restarted.server.environment!.tenants.withTenant(tenant) { lease in
            try await lease.read { db in
                (try db.userVersion(), try db.query("SELECT name FROM sqlite_master WHERE name = 'folder_cursors'").count,
                 try db.query("SELECT id FROM timeline_entries").compactMap { $0[0].string },
                 try db.query("SELECT entry_id || '/' || mailbox_id FROM timeline_sources ORDER BY 1").compactMap { $0[0].string },
                 try db.query("SELECT entry_id || '/' || opportunity_id FROM opportunity_links").compactMap { $0[0].string },
                 try db.query("SELECT direction FROM timeline_entries UNION ALL SELECT direction FROM timeline_sources").map { $0[0] },
                 try UserRecords.find(db, id: adminUserID)?.role)
            }
        }
        #expect(version.0 == Int32(ServiceSchema.tenantMigrations.count))
        #expect(version.1 == 1)
        #expect(version.2 == ["e1"])
        #expect(version.3 == ["e1/mb1", "e1/mb2"])
        #expect(version.4 == ["e1/opp"])
        // Version 12 turned the numbers into codes: direction 2 is "received"; the administrator's role reads back.
        #expect(version.5 == [.text("received"), .text("received"), .text("received")])
        #expect(version.6 == .administrator)
        await restarted.stop()
    }

    @Test("a tenant file copied over another tenant's is refused with a clear message; the others still work")
    func misplacedFile() async throws {
        let harness = try await ServiceHarness.start()
        let a = try await harness.makeCompany(name: "A")
        let b = try await harness.makeCompany(name: "B")
        await harness.stop(keepData: true)
        let dir = DataDirectory(harness.dataDirectory)
        let pathA = dir.tenantDatabasePath(TenantID(validating: a.id)!)
        let pathB = dir.tenantDatabasePath(TenantID(validating: b.id)!)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: pathA + suffix) }
        try FileManager.default.removeItem(atPath: pathA)
        try FileManager.default.copyItem(atPath: pathB, toPath: pathA)

        let restarted = try await ServiceHarness.start(dataDirectory: harness.dataDirectory)
        await #expect {
            _ = try await restarted.client(key: a.adminKey).getCompanySettings(GetCompanySettingsRequest())
        } throws: { error in
            guard let rpc = error as? RPCError else { return false }
            return rpc.code == .failedPrecondition && rpc.message.contains("stamped")
        }
        _ = try await restarted.client(key: b.adminKey).listPlans(ListPlansRequest())
        await restarted.stop()
    }

    @Test("no API key secret or mailbox password appears in the server's logs, even at trace level")
    func noSecretsInLogs() async throws {
        let store = CapturingLogHandler.Store()
        let harness = try await ServiceHarness.start(logHandler: CapturingLogHandler(store: store))
        let company = try await harness.makeCompany(name: "Quiet")
        var secrets = [harness.operatorKey, company.adminKey]
        // A failing call with a wrong key, and one with a password in a request.
        let wrong = harness.client(key: company.adminKey + "x")
        _ = try? await wrong.listPlans(ListPlansRequest())
        var mailbox = CreateMailboxConnectionRequest()
        mailbox.emailAddress = "quiet@quiet.example"
        mailbox.provider = .gmail
        mailbox.secret = "pw-\(UUID().uuidString)"
        secrets.append(mailbox.secret)
        _ = try? await company.admin.createMailboxConnection(mailbox)
        // And one that really logs in (a loopback IMAP server that takes any password), so the
        // login path runs at trace level with the password in hand.
        let imap = try HostileIMAPServer.start(mode: .wellBehaved)
        let user = try await MailboxFixtures.makeUser(harness, company, id: "quiet-imap", role: .salesperson)
        let password = "imap-pw-\(UUID().uuidString)"
        secrets.append(password)
        _ = try await user.client.createMailboxConnection(SyncFixture.connectRequest(
            email: "quiet-imap@quiet.example", username: "quiet-imap", port: imap.port, secret: password))
        #expect(await harness.runSyncs() >= 1)
        #expect(imap.logins >= 1, "the sync logged in")
        imap.stop()
        // Request ids: a sane one from the client is on the call's log lines; an insane one
        // (a forged log line) is replaced by the server's own.
        let traced = "trace-\(UUID().uuidString)"
        let forged = "x\nlevel=critical forged-\(UUID().uuidString)"
        _ = try? await company.admin.listPlans(ListPlansRequest(), options: CallOptions(metadata: ["x-request-id": traced]))
        _ = try? await company.admin.listPlans(ListPlansRequest(), options: CallOptions(metadata: ["request-id": forged]))
        await harness.stop()
        let logs = store.all
        #expect(!logs.isEmpty, "the capture should have seen the server's log lines")
        #expect(logs.contains(traced), "the call's request id should be on its log lines")
        #expect(!logs.contains("forged-"), "an insane request id must not reach the logs")
        for secret in secrets {
            #expect(!logs.contains(secret), "a secret reached the logs")
            // An API key's random part (msk_<id>_<random>; base64url, so it may hold '_' itself).
            let random = secret.split(separator: "_", maxSplits: 2).last.map(String.init) ?? secret
            #expect(!logs.contains(random))
        }
    }

    @Test("1,000 companies with at most 50 databases open: answers correct, evictions, bounded descriptors")
    func thousandTenants() async throws {
        let harness = try await ServiceHarness.start(openTenantLimit: 50)
        let baseline = Self.openDescriptors(under: harness.dataDirectory)
        var companies: [(String, MailSync.Client)] = []
        for i in 0..<1_000 {
            let company = try await harness.makeCompany(name: "Tenant \(i)", domains: ["t\(i).example"])
            companies.append((company.id, company.admin))
        }
        var peak = 0
        for (i, (_, admin)) in companies.enumerated().shuffled() {
            let settings = try await admin.getCompanySettings(GetCompanySettingsRequest())
            #expect(settings.emailDomains == ["t\(i).example"])
            if i % 50 == 0 { peak = max(peak, Self.openDescriptors(under: harness.dataDirectory)) }
        }
        let stats = harness.server.environment!.tenants.statistics
        #expect(stats.openCount <= 50)
        #expect(stats.evictions >= 900)
        // 3 descriptors per open tenant (file, -wal, -shm) and the control database's; a few more
        // while evicted tenants finish closing in the background.
        #expect(peak - baseline <= 50 * 3 + 30, "descriptors into the data directory grew from \(baseline) to \(peak)")
        #expect(peak > 0)
        await harness.stop()
    }

    /// Descriptors of this process open on files under `directory` (other tests run alongside).
    static func openDescriptors(under directory: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter { entry in
            ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry)) ?? "").hasPrefix(directory)
        }.count
    }
}
