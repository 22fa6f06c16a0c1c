import Foundation
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// The control database's side of a fleet's replication: the outbox filled by triggers, the
/// migration of existing rows, and applying rows from etcd with what they may change checked.
@Suite("Control replica: outbox and applying the fleet's rows")
struct ControlReplicaTests {
    static func database() throws -> (SQLiteConnection, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replica-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: directory + "/control.sqlite")
        _ = try Migrator(ControlMigrations.all).migrate(db)
        return (db, directory)
    }

    static func addCompany(_ db: SQLiteConnection, _ id: String, name: String = "C") throws {
        try db.run("""
            INSERT INTO companies(id, name, plan, state, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds, created_at)
            VALUES (?, ?, 'essential', 'active', 5, 0, 300, 1)
            """, [.text(id), .text(name)])
    }

    static func addKey(_ db: SQLiteConnection, _ id: String, company: String) throws {
        try db.run("""
            INSERT INTO api_keys(id, company_id, role, label, secret_hash, secret_prefix, created_at, expires_at)
            VALUES (?, ?, 'admin', 'k', x'00ff10', 'p', 2, NULL)
            """, [.text(id), .text(company)])
    }

    @Test("a single node records nothing; publishing queues every existing row once, then each change as it commits")
    func outbox() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.addCompany(db, "c1")
        #expect(try ControlReplica.backlog(db) == 0, "not publishing: no outbox")
        let plans = try db.scalar("SELECT count(*) FROM plans")?.int64 ?? 0
        let queued = try db.transaction { try ControlReplica.startPublishing(db) }
        #expect(Int64(queued) == plans + 1)
        #expect(try db.transaction { try ControlReplica.startPublishing(db) } == 0, "the migration runs once")
        let first = try ControlReplica.pending(db, limit: 1000)
        #expect(first.map(\.table.rawValue) == Array(repeating: "plans", count: Int(plans)) + ["companies"], "plans before companies")
        #expect(first.last?.row?["name"] == .text("C"))
        try ControlReplica.acknowledge(db, upTo: try #require(first.last?.seq))
        #expect(try ControlReplica.backlog(db) == 0)

        try Self.addKey(db, "k1", company: "c1")
        try db.run("UPDATE companies SET name = 'D' WHERE id = 'c1'")
        let next = try ControlReplica.pending(db, limit: 1000)
        #expect(next.map(\.table) == [.apiKeys, .companies])
        #expect(next[0].row?["secret_hash"] == .blob([0, 255, 16]))
        #expect(next[1].row?["name"] == .text("D"), "the row as it is when published")
    }

    @Test("applied rows land as they were, do not go back out, and a local change still queued wins")
    func apply() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.transaction { _ = try ControlReplica.startPublishing(db) }
        try ControlReplica.acknowledge(db, upTo: Int64.max)

        let (source, sourceDirectory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: sourceDirectory) }
        try Self.addCompany(source, "c1", name: "Remote")
        try Self.addKey(source, "k1", company: "c1")
        let company = try #require(try source.query("SELECT * FROM companies").first)
        let key = try #require(try source.query("SELECT * FROM api_keys").first)

        let changed = try db.transaction {
            try ControlReplica.apply(db, [.init(table: .companies, key: "c1", row: company), .init(table: .apiKeys, key: "k1", row: key)], revision: 42)
        }
        #expect(changed == 2)
        #expect(try db.query("SELECT * FROM api_keys").first == key)
        #expect(try ControlReplica.backlog(db) == 0, "applied rows are not published again")
        #expect(try ControlReplica.appliedRevision(db) == 42)

        // A local rename not yet published is not overwritten by an older record.
        try db.run("UPDATE companies SET name = 'Local' WHERE id = 'c1'")
        _ = try db.transaction { try ControlReplica.apply(db, [.init(table: .companies, key: "c1", row: company)], revision: 43) }
        #expect(try db.scalar("SELECT name FROM companies WHERE id = 'c1'") == .text("Local"))

        // A revocation from another node applies (an update of an existing row).
        try ControlReplica.acknowledge(db, upTo: Int64.max)
        try source.run("UPDATE api_keys SET revoked = 1")
        _ = try db.transaction { try ControlReplica.apply(db, [.init(table: .apiKeys, key: "k1", row: try source.query("SELECT * FROM api_keys").first)], revision: 44) }
        #expect(try db.scalar("SELECT revoked FROM api_keys WHERE id = 'k1'") == .integer(1))
    }

    @Test("a record naming columns the table lacks, or a key that is not its row's, changes nothing")
    func hostileRecords() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.addCompany(db, "c1", name: "Kept")
        let good = try #require(try db.query("SELECT * FROM companies").first)
        var injected = good
        injected = Row(columns: good.columns.map { $0 == "name" ? "name\" = 'x', \"state" : $0 }, values: good.values)
        let cases: [ControlReplica.Incoming] = [
            .init(table: .companies, key: "c1", row: injected),
            .init(table: .companies, key: "c2", row: good),
            .init(table: .companies, key: "c1", row: Row(columns: ["id", "id"], values: [.text("c1"), .text("c1")])),
            .init(table: .companies, key: "c1", row: Row(columns: [], values: [])),
        ]
        for incoming in cases {
            #expect(throws: ControlReplicaError.self) {
                try db.transaction { try ControlReplica.apply(db, [.init(table: .companies, key: "c1", row: good), incoming], revision: 9) }
            }
            #expect(try db.scalar("SELECT name FROM companies WHERE id = 'c1'") == .text("Kept"))
            #expect(try ControlReplica.appliedRevision(db) == 0, "the whole batch rolled back")
        }
    }
}
