import Foundation
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// Tenant migration 12: a file at version 11 holding the old numbers in every enum column reads
/// back, after the migration, as the same domain values through the tables' owners.
@Suite("Tenant migration 12: enum numbers become text codes")
struct TenantMigration12Tests {
    // The numbers versions 1 to 11 wrote (the wire schema's enum numbers), written down here
    // independently of the migration so that a wrong mapping in it fails these tests.
    static let roles: [(UserRecord.Role, Int64)] = [
        (.administrator, 1), (.companyManager, 2), (.marketingManager, 3), (.salesManager, 4), (.salesperson, 5), (.juniorSalesperson, 6),
    ]
    static let statuses: [(MailboxRecord.Status, Int64)] = [(.enabled, 2), (.error, 3), (.pending, 4), (.connectionIssue, 5), (.disabled, 6)]
    static let providers: [(MailboxRecord.Provider, Int64)] = [(.gmail, 1), (.microsoft365, 2), (.godaddy, 3), (.customImap, 4)]
    static let authMethods: [(MailboxRecord.AuthMethod, Int64)] = [(.password, 1), (.oauth, 2)]
    static let securities: [(ServerAddress.Security, Int64)] = [(.unspecified, 0), (.none, 1), (.starttls, 2), (.tls, 3)]
    static let kinds: [(SyncEventRecord.Kind, Int64)] = [
        (.connected, 1), (.syncStarted, 2), (.syncCompleted, 3), (.emailRecorded, 4), (.smartMailSent, 5),
        (.statusChanged, 6), (.error, 7), (.disabled, 8), (.deferred, 9),
    ]
    /// `sync_events.status`: 0 was "no status".
    static let eventStatuses: [(MailboxRecord.Status?, Int64)] = [(nil, 0)] + statuses.map { (Optional($0.0), $0.1) }
    static let errorClasses: [(ErrorLogRecord.ErrorClass, Int64)] = [(.authentication, 1), (.configuration, 2), (.temporary, 3), (.operator, 4)]
    static let opportunityStatuses: [(LeadRecords.OpportunityStatus, Int64)] = [(.open, 1), (.won, 2), (.lost, 3)]
    static let dateSources: [(TimelineEntryRecord.DateSource, Int64)] = [(.unspecified, 0), (.dateHeader, 1), (.serverReceived, 2), (.sent, 3)]
    // `MessageDirection` and `MailParticipant.Kind` belong to MailSyncMatching: compared by code.
    static let directions: [(String, Int64)] = [("sent", 1), ("received", 2)]
    static let participantKinds: [(String, Int64)] = [("from", 1), ("to", 2), ("cc", 3), ("bcc", 4)]

    static func database() throws -> (SQLiteConnection, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantdata-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: directory + "/t.sqlite")
        let (_, to) = try Migrator(Array(TenantMigrations.all.prefix(11))).migrate(db)
        #expect(to == 11)
        return (db, directory)
    }

    /// Rows at version 11 holding every old number of every enum column.
    static func insertVersion11Rows(_ db: SQLiteConnection) throws {
        try db.execute("INSERT INTO leads VALUES ('l1', 'Lead', 'Acme', 0)")
        for (i, (_, role)) in roles.enumerated() {
            try db.run("INSERT INTO users(id, name, email, role, active, created_at) VALUES (?, 'U', 'u@example.com', ?, 1, 0)",
                       [.text("u\(i)"), .integer(role)])
        }
        for (i, (_, status)) in statuses.enumerated() {
            try db.run("""
                INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                    smtp_host, smtp_port, smtp_security, username, status, status_since, created_at)
                VALUES (?, ?, 'u@example.com', ?, ?, 'imap.example.com', 993, ?, 'smtp.example.com', 465, ?, 'u', ?, 0, 0)
                """, [.text("m\(i)"), .text("u\(i)"), .integer(providers[i % 4].1), .integer(authMethods[i % 2].1),
                      .integer(securities[i % 4].1), .integer(securities[(i + 1) % 4].1), .integer(status)])
        }
        for (i, (_, kind)) in kinds.enumerated() {
            try db.run("""
                INSERT INTO sync_events(id, time, kind, mailbox_id, user_id, status, emails_synced, detail)
                VALUES (?, ?, ?, 'm0', 'u0', ?, 0, '')
                """, [.text("ev\(i)"), .integer(Int64(i)), .integer(kind), .integer(eventStatuses[i % eventStatuses.count].1)])
        }
        for (i, (_, errorClass)) in errorClasses.enumerated() {
            try db.run("""
                INSERT INTO error_log(id, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, first_seen, last_seen, count)
                VALUES (?, 'm0', 'u0', 'u@example.com', ?, ?, 'hint', 0, 0, 1)
                """, [.text("err\(i)"), .integer(errorClass), .text("NO \(i)")])
        }
        for (i, (_, status)) in opportunityStatuses.enumerated() {
            try db.run("INSERT INTO opportunities VALUES (?, 'l1', 'Deal', ?, 0)", [.text("o\(i)"), .integer(status)])
        }
        for (i, (_, source)) in dateSources.enumerated() {
            try db.run("""
                INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, date_source)
                VALUES (?, 'l1', ?, 'm0', 'u0', 'Hi', ?, ?, ?)
                """, [.text("e\(i)"), .text("k\(i)"), .integer(Int64(100 - i)), .integer(directions[i % 2].1), .integer(source)])
            try db.run("INSERT INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES (?, 'm0', 'u0', ?)",
                       [.text("e\(i)"), .integer(directions[i % 2].1)])
        }
        for (i, (_, kind)) in participantKinds.enumerated() {
            try db.run("INSERT INTO timeline_participants VALUES ('e0', ?, ?, 'p@example.com', '')", [.integer(Int64(i)), .integer(kind)])
        }
        for (i, (_, provider)) in providers.enumerated() {
            try db.run("""
                INSERT INTO oauth_states(state_hash, started_by, user_id, provider, redirect_uri, verifier, created_at, expires_at)
                VALUES (?, 'u0', 'u0', ?, 'https://app.example/cb', x'00', 0, 1)
                """, [.text("s\(i)"), .integer(provider)])
        }
    }

    /// A column decoded by ``RowReader`` as the enum `path` points at (so the enum need not be named).
    static func decode<Root, E: StoredEnum>(_ db: SQLiteConnection, _ table: String, _ column: String, key: String,
                                            as path: KeyPath<Root, E>) throws -> [E] {
        try db.query("SELECT \(key) AS id, \(column) FROM \(table) ORDER BY \(key)").map { try RowReader($0, table: table).value(column) }
    }

    @Test("every table's old numbers read back as the same domain values after migrating 11 to 12")
    func migratesEveryValue() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.insertVersion11Rows(db)
        let (from, to) = try Migrator(TenantMigrations.all).migrate(db)
        #expect(from == 11 && to == 12)

        // Every case of every enum is in the rows above.
        #expect(Set(Self.roles.map(\.0)) == Set(UserRecord.Role.allCases))
        #expect(Set(Self.statuses.map(\.0)) == Set(MailboxRecord.Status.allCases))
        #expect(Set(Self.providers.map(\.0)) == Set(MailboxRecord.Provider.allCases))
        #expect(Set(Self.authMethods.map(\.0)) == Set(MailboxRecord.AuthMethod.allCases))
        #expect(Set(Self.securities.map(\.0)) == Set(ServerAddress.Security.allCases))
        #expect(Set(Self.kinds.map(\.0)) == Set(SyncEventRecord.Kind.allCases))
        #expect(Set(Self.errorClasses.map(\.0)) == Set(ErrorLogRecord.ErrorClass.allCases))
        #expect(Set(Self.opportunityStatuses.map(\.0)) == Set(LeadRecords.OpportunityStatus.allCases))
        #expect(Set(Self.dateSources.map(\.0)) == Set(TimelineEntryRecord.DateSource.allCases))

        for (i, (role, _)) in Self.roles.enumerated() {
            #expect(try UserRecords.find(db, id: "u\(i)")?.role == role)
        }
        for (i, (status, _)) in Self.statuses.enumerated() {
            let mailbox = try #require(try MailboxRecords.find(db, id: "m\(i)"))
            #expect(mailbox.status == status)
            #expect(mailbox.provider == Self.providers[i % 4].0)
            #expect(mailbox.authMethod == Self.authMethods[i % 2].0)
            #expect(mailbox.imap.security == Self.securities[i % 4].0)
            #expect(mailbox.smtp.security == Self.securities[(i + 1) % 4].0)
        }
        let events = try db.query("SELECT \(SyncEventRecords.columns) FROM sync_events ORDER BY seq").map(SyncEventRecords.event)
        #expect(events.map(\.kind) == Self.kinds.map(\.0))
        #expect(events.map(\.status) == Self.kinds.indices.map { Self.eventStatuses[$0 % Self.eventStatuses.count].0 })
        let errors = try db.query("SELECT \(ErrorLogRecords.columns) FROM error_log ORDER BY seq").map(ErrorLogRecords.entry)
        #expect(errors.map(\.errorClass) == Self.errorClasses.map(\.0))
        #expect(try Self.decode(db, "opportunities", "status", key: "id", as: \LeadRecords.OpportunityUpsert.status)
            == Self.opportunityStatuses.map(\.0))

        let entries = try TimelineRecords.page(db, leadID: "l1", limit: 10, offset: 0, readerUserID: "u0", readsAll: true).map(\.entry)
        #expect(entries.map(\.id) == Self.dateSources.indices.map { "e\($0)" })
        #expect(entries.map(\.dateSource) == Self.dateSources.map(\.0))
        #expect(entries.map(\.direction.stored) == Self.dateSources.indices.map { Self.directions[$0 % 2].0 })
        #expect(entries[0].participants.map(\.kind.stored) == Self.participantKinds.map(\.0))
        #expect(try Self.decode(db, "timeline_sources", "direction", key: "entry_id", as: \TimelineEntryRecord.direction).map(\.stored)
            == Self.dateSources.indices.map { Self.directions[$0 % 2].0 })
        #expect(try Self.decode(db, "oauth_states", "provider", key: "state_hash", as: \MailboxRecord.provider)
            == Self.providers.map(\.0))
    }

    @Test("a number no build wrote is left as it is and fails loudly when read, naming table, column and row")
    func unknownNumberStaysLoud() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.execute("""
            INSERT INTO users(id, name, email, role, active, created_at) VALUES ('u1', 'U', 'u@example.com', 99, 1, 0);
            """)
        _ = try Migrator(TenantMigrations.all).migrate(db)
        let error = #expect(throws: TenantDataError.self) { _ = try UserRecords.find(db, id: "u1") }
        #expect(error?.kind == .corruptRow)
        #expect(error?.message == "users.role of row 'u1' is the number 99, not a known user role code")
    }

    @Test("the rewrite leaves codes alone: running it again changes nothing")
    func rewriteIsIdempotent() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.insertVersion11Rows(db)
        _ = try Migrator(TenantMigrations.all).migrate(db)
        let before = try db.query("SELECT role FROM users ORDER BY id").map(\.values)
        for rewrite in TenantMigration12.rewrites { try db.run(TenantMigration12.sql(rewrite)) }
        #expect(try db.query("SELECT role FROM users ORDER BY id").map(\.values) == before)
        #expect(try db.scalar("SELECT count(*) FROM mailboxes WHERE typeof(status) <> 'text'")?.int64 == 0)
    }
}
