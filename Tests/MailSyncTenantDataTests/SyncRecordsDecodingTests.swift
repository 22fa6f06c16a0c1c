import Foundation
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// The rows the sync engine reads through the tables' owners (mailbox sync state, folder cursors,
/// daily counts, users' addresses): a good row reads back as stored, a bad one is refused by name
/// instead of read as a default.
@Suite("Sync records on a bad row")
struct SyncRecordsDecodingTests {
    @Test("a mailbox's sync state reads back; a non-integer attempt count or a flag other than 0 or 1 is a corrupt row")
    func syncState() throws {
        let (db, directory) = try MailboxRecordsDecodingTests.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try MailboxRecords.syncState(db, id: "m1") == nil)
        try MailboxRecordsDecodingTests.insertMailbox(db, status: MailboxRecord.Status.enabled.stored)
        try db.run("""
            UPDATE mailboxes SET failing_since = 5, failed_attempts = 3, attempts_exhausted = 1, usage_day = '2026-12-06',
                usage_bytes = 7, usage_commands = 9 WHERE id = 'm1'
            """)
        let state = try #require(try MailboxRecords.syncState(db, id: "m1"))
        #expect(state == MailboxRecords.SyncState(
            sealedSecret: nil, failingSince: 5, failedAttempts: 3, attemptsExhausted: true, backfillSince: nil,
            usageDay: "2026-12-06", usageBytes: 7, usageCommands: 9))
        try db.run("UPDATE mailboxes SET failed_attempts = 'many' WHERE id = 'm1'")
        let attempts = #expect(throws: TenantDataError.self) { _ = try MailboxRecords.syncState(db, id: "m1") }
        #expect(attempts?.kind == .corruptRow)
        #expect(attempts?.message == "mailboxes.failed_attempts of row 'm1' is not an integer")
        try db.run("UPDATE mailboxes SET failed_attempts = 0, attempts_exhausted = 2 WHERE id = 'm1'")
        let exhausted = #expect(throws: TenantDataError.self) { _ = try MailboxRecords.syncState(db, id: "m1") }
        #expect(exhausted?.message == "mailboxes.attempts_exhausted of row 'm1' is 2; it must be 0 or 1")
    }

    @Test("a folder cursor out of UInt32's range is a corrupt row, not a truncated UID")
    func cursors() throws {
        let (db, directory) = try MailboxRecordsDecodingTests.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FolderCursorRecords.set(db, mailboxID: "m1", folder: "INBOX", uidValidity: 7, highestUID: 42, now: 0)
        let cursor = try #require(try FolderCursorRecords.cursors(db, mailboxID: "m1")["INBOX"])
        #expect(cursor.uidValidity == 7 && cursor.highestUID == 42)
        try db.run("UPDATE folder_cursors SET highest_uid = 4294967296")
        let error = #expect(throws: TenantDataError.self) { _ = try FolderCursorRecords.cursors(db, mailboxID: "m1") }
        #expect(error?.kind == .corruptRow)
        #expect(error?.message.contains("folder_cursors.highest_uid") == true)
        #expect(error?.message.contains("out of range for UInt32") == true)
    }

    @Test("a day without a count is 0; a non-integer count is a corrupt row, not 0")
    func dailyCount() throws {
        let (db, directory) = try MailboxRecordsDecodingTests.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try DailyCountRecords.recorded(db, userID: "u1", day: "2026-12-06") == 0)
        try DailyCountRecords.setRecorded(db, userID: "u1", day: "2026-12-06", 12)
        #expect(try DailyCountRecords.recorded(db, userID: "u1", day: "2026-12-06") == 12)
        try db.run("UPDATE daily_counts SET recorded = 'twelve'")
        let error = #expect(throws: TenantDataError.self) { _ = try DailyCountRecords.recorded(db, userID: "u1", day: "2026-12-06") }
        #expect(error?.kind == .corruptRow)
        #expect(error?.message.contains("daily_counts.recorded") == true)
    }

    @Test("a user's address reads back; an unknown user has none")
    func userEmail() throws {
        let (db, directory) = try MailboxRecordsDecodingTests.database()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try UserRecords.email(db, id: "u1") == "ann@example.com")
        #expect(try UserRecords.email(db, id: "nobody") == nil)
        #expect(try UserRecords.emails(db) == ["ann@example.com"])
    }
}
