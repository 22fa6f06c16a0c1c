import Foundation
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// A company database with a mailbox row that the schema accepts but no build of ours wrote: the
/// owner of `mailboxes` refuses it by name instead of handing out a default.
@Suite("MailboxRecords on a bad row")
struct MailboxRecordsDecodingTests {
    static func database() throws -> (SQLiteConnection, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantdata-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let db = try SQLiteConnection(path: directory + "/t.sqlite")
        _ = try Migrator(TenantMigrations.all).migrate(db)
        try db.run("INSERT INTO users(id, name, email, role, active, created_at) VALUES ('u1', 'Ann', 'ann@example.com', 'administrator', 1, 0)")
        return (db, directory)
    }

    static func insertMailbox(_ db: SQLiteConnection, status: String, provider: String = "custom_imap") throws {
        try db.run("""
            INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                smtp_host, smtp_port, smtp_security, username, status, status_since, created_at)
            VALUES ('m1', 'u1', 'ann@example.com', ?, 'password', 'imap.example.com', 993, 'tls', '', 0, 'unspecified', 'ann', ?, 0, 0)
            """, [.text(provider), .text(status)])
    }

    @Test("a good row reads back as stored")
    func goodRow() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.insertMailbox(db, status: MailboxRecord.Status.error.stored)
        let mailbox = try #require(try MailboxRecords.find(db, id: "m1"))
        #expect(mailbox.status == .error && mailbox.provider == .customImap && mailbox.imap.security == .tls)
        #expect(mailbox.smtp == ServerAddress())
    }

    @Test("an unknown status or provider is a corrupt-row error naming table, column and row")
    func unknownValues() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.insertMailbox(db, status: "paused")
        let error = #expect(throws: TenantDataError.self) { _ = try MailboxRecords.find(db, id: "m1") }
        #expect(error?.kind == .corruptRow)
        #expect(error?.message == "mailboxes.status of row 'm1' is 'paused', not a known mailbox status")
        try db.run("UPDATE mailboxes SET status = 'enabled', provider = 'yahoo' WHERE id = 'm1'")
        let provider = #expect(throws: TenantDataError.self) { _ = try MailboxRecords.active(db, userID: "u1") }
        #expect(provider?.message == "mailboxes.provider of row 'm1' is 'yahoo', not a known mail provider")
    }

    @Test("a user whose active mailbox has a bad status is refused too, not shown as NOT_CONFIGURED")
    func userJoin() throws {
        let (db, directory) = try Self.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.insertMailbox(db, status: "paused")
        let error = #expect(throws: TenantDataError.self) { _ = try UserRecords.find(db, id: "u1") }
        #expect(error?.message == "users.mailbox_status of row 'u1' is 'paused', not a known mailbox status")
    }
}
