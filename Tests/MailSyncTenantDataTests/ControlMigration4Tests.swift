import Foundation
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// Control migration 4: a control database at version 3 with companies on every plan and in every
/// state reads back the same plans and states, as codes, after the migration.
@Suite("Control migration 4: plans and company states become text codes")
struct ControlMigration4Tests {
    // The numbers control versions 1 to 3 wrote (the wire schema's), independent of the migration.
    static let plans: [(CompanyPlan, Int64)] = [
        (.trial, 1), (.essential, 2), (.advanced, 3), (.ultimate, 4), (.marketingAutomation, 5), (.crmUltimate, 6), (.crmPro, 7), (.crmFree, 8),
    ]
    static let states: [(CompanyRecord.State, Int64)] = [(.active, 1), (.suspended, 2)]

    static func database(upTo version: Int) throws -> (SQLiteConnection, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("controldata-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: directory + "/control.sqlite")
        _ = try Migrator(Array(ControlMigrations.all.prefix(version))).migrate(db)
        return (db, directory)
    }

    @Test("every company's plan and state, and every plan with its caps, read back the same after migrating 3 to 4")
    func migratesEveryValue() throws {
        let (db, directory) = try Self.database(upTo: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(Set(Self.plans.map(\.0)) == Set(CompanyPlan.allCases))
        #expect(Set(Self.states.map(\.0)) == Set(CompanyRecord.State.allCases))
        try db.run("UPDATE plans SET mailbox_sync_limit = 77 WHERE plan = 3")  // an operator's change survives
        for (i, (_, plan)) in Self.plans.enumerated() {
            try db.run("""
                INSERT INTO companies(id, name, plan, state, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds, created_at)
                VALUES (?, 'C', ?, ?, 1, 0, 300, ?)
                """, [.text("c\(i)"), .integer(plan), .integer(Self.states[i % 2].1), .integer(Int64(i))])
            try db.run("""
                INSERT INTO api_keys(id, company_id, role, label, secret_hash, secret_prefix, created_at)
                VALUES (?, ?, 'admin', 'k', x'00', 'p', 0)
                """, [.text("k\(i)"), .text("c\(i)")])
        }

        let (from, to) = try Migrator(Array(ControlMigrations.all.prefix(4))).migrate(db)
        #expect(from == 3 && to == 4)
        let companies = try db.query("SELECT \(CompanyRecords.columns) FROM companies ORDER BY created_at").map(CompanyRecords.company)
        #expect(companies.map(\.plan) == Self.plans.map(\.0))
        #expect(companies.map(\.state) == Self.plans.indices.map { Self.states[$0 % 2].0 })
        let plans = try CompanyRecords.plans(db)
        #expect(plans.map(\.plan) == PlanCatalog.defaults.map(\.plan))
        #expect(plans.map(\.displayName) == PlanCatalog.defaults.map(\.displayName))
        #expect(plans.first { $0.plan == .advanced }?.caps.mailboxSyncLimit == 77)
        #expect(try db.query("PRAGMA foreign_key_check").isEmpty)
        #expect(try db.query("SELECT name FROM sqlite_temp_master WHERE name = 'plans_before'").isEmpty)
        // The keys still reach their companies, and a new company on a plan passes the foreign key.
        #expect(try db.scalar("SELECT count(*) FROM api_keys k JOIN companies c ON c.id = k.company_id")?.int64 == 8)
        try CompanyRecords.insert(db, id: "new", name: "N", plan: .crmFree, limits: CompanyRecord.Limits(), now: 99)
        #expect(throws: (any Error).self) {
            try db.run("""
                INSERT INTO companies(id, name, plan, state, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds, created_at)
                VALUES ('bad', 'B', 'no_such_plan', 'active', 1, 0, 300, 0)
                """)
        }
    }

    @Test("a state number no build wrote stays and is refused by name when read")
    func unknownNumberStaysLoud() throws {
        let (db, directory) = try Self.database(upTo: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try db.run("""
            INSERT INTO companies(id, name, plan, state, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds, created_at)
            VALUES ('c1', 'C', 1, 9, 1, 0, 300, 0)
            """)
        _ = try Migrator(ControlMigrations.all).migrate(db)
        let error = #expect(throws: TenantDataError.self) {
            _ = try db.query("SELECT \(CompanyRecords.columns) FROM companies").map(CompanyRecords.company)
        }
        #expect(error?.message == "companies.state of row 'c1' is the number 9, not a known company state code")
    }
}
