import Foundation
import MailSyncCoding
import MailSyncStorage

/// Reading and writing the `mailboxes` table of a company's database.
///
/// Every function runs inside the caller's transaction (`env.write`/`env.read`). The sealed secret
/// is never read back into a ``MailboxRecord``: only `sealedSecret(_:id:)` touches it, for the sync engine.
package enum MailboxRecords {
    package static let columns = """
        id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security, \
        smtp_host, smtp_port, smtp_security, username, status, status_since, last_synced_at, synced_today, \
        created_at, disabled_at, deferred_until, deferred_reason, usage_day, usage_bytes, usage_commands, usage_sends
        """

    /// Statuses that occupy a place under the company's mailbox sync limit: mailboxes being synced
    /// or retried. `PENDING` waits for a place; `CONNECTION_ISSUE` has stopped trying (and is not
    /// billed), so it gives its place up; `DISABLED` is gone.
    package static let syncingStatuses: [MailboxRecord.Status] = [.enabled, .error]

    /// The context a mailbox's secret is sealed under, binding it to its tenant and row.
    package static func secretContext(tenant: TenantID, mailboxID: String) -> String {
        "tenant/\(tenant)/mailbox/\(mailboxID)/secret"
    }

    /// Decodes a row selected with ``columns``; a bad value is a ``TenantDataError`` naming it.
    package static func mailbox(_ row: Row) throws -> MailboxRecord {
        let r = RowReader(row, table: "mailboxes")
        return MailboxRecord(
            id: try r.string("id"),
            userId: try r.string("user_id"),
            emailAddress: try r.string("email_address"),
            provider: try r.value("provider"),
            authMethod: try r.value("auth_method"),
            imap: ServerAddress(host: try r.string("imap_host"), port: try r.integer("imap_port"), security: try r.value("imap_security")),
            smtp: ServerAddress(host: try r.string("smtp_host"), port: try r.integer("smtp_port"), security: try r.value("smtp_security")),
            username: try r.string("username"),
            status: try r.value("status"),
            statusSince: try r.timestamp("status_since"),
            lastSyncedAt: try r.optionalTimestamp("last_synced_at"),
            syncedToday: try r.integer("synced_today"),
            createdAt: try r.timestamp("created_at"),
            deferredUntil: try r.optionalTimestamp("deferred_until"),
            deferredReason: try r.optionalString("deferred_reason") ?? "",
            // Usage counts are of the UTC day of the last run (`usage_day`).
            downloadedBytesToday: try r.integer("usage_bytes"),
            commandsToday: try r.integer("usage_commands"),
            sendsToday: try r.integer("usage_sends"))
    }

    package static func find(_ db: SQLiteConnection, id: String) throws -> MailboxRecord? {
        try db.query("SELECT \(columns) FROM mailboxes WHERE id = ?", [.text(id)]).first.map(mailbox)
    }

    /// Adds a sync run's or a Smart Mail's use of the provider to the mailbox's counts for `day`
    /// (`yyyy-MM-dd`, UTC); counts of an earlier day start over. The provider governor's record
    /// (`ProviderBudget`).
    package static func addUsage(
        _ db: SQLiteConnection, mailboxID: String, day: String, bytes: Int64 = 0, commands: Int64 = 0, sends: Int64 = 0
    ) throws {
        try db.run("""
            UPDATE mailboxes SET
                usage_bytes = CASE WHEN usage_day = ? THEN usage_bytes ELSE 0 END + ?,
                usage_commands = CASE WHEN usage_day = ? THEN usage_commands ELSE 0 END + ?,
                usage_sends = CASE WHEN usage_day = ? THEN usage_sends ELSE 0 END + ?,
                usage_day = ?
            WHERE id = ?
            """, [.text(day), .integer(bytes), .text(day), .integer(commands), .text(day), .integer(sends), .text(day), .text(mailboxID)])
    }

    /// The mailbox, or `not found` naming it.
    package static func require(_ db: SQLiteConnection, id: String) throws -> MailboxRecord {
        guard let mailbox = try find(db, id: id) else { throw TenantDataError.notFound("no mailbox '\(id.prefix(80))'") }
        return mailbox
    }

    /// The user's mailbox that is not disabled, if any (at most one: a unique index sees to it).
    package static func active(_ db: SQLiteConnection, userID: String) throws -> MailboxRecord? {
        try db.query("SELECT \(columns) FROM mailboxes WHERE user_id = ? AND disabled_at IS NULL", [.text(userID)])
            .first.map(mailbox)
    }

    /// How many mailboxes hold a place under the mailbox sync limit.
    package static func syncingCount(_ db: SQLiteConnection) throws -> Int {
        let placeholders = MailboxRecord.Status.storedList(syncingStatuses)
        return Int(try db.scalar("SELECT count(*) FROM mailboxes WHERE disabled_at IS NULL AND status IN (\(placeholders))")?.int64 ?? 0)
    }

    /// The status a mailbox that wants to sync gets: `ENABLED` while the company is below its
    /// limit (counting the syncing mailboxes other than itself), `PENDING` at it.
    package static func admissionStatus(_ db: SQLiteConnection, limit: UInt32) throws -> MailboxRecord.Status {
        try syncingCount(db) < Int(limit) ? .enabled : .pending
    }

    package struct NewMailbox: Sendable {
        package var id: String
        package var userID: String
        package var emailAddress: String
        package var provider: MailboxRecord.Provider
        package var authMethod: MailboxRecord.AuthMethod
        package var imap: ServerAddress
        package var smtp: ServerAddress
        package var username: String
        package var sealedSecret: [UInt8]
        package var status: MailboxRecord.Status
        package var now: Int64

        package init(
            id: String, userID: String, emailAddress: String, provider: MailboxRecord.Provider, authMethod: MailboxRecord.AuthMethod,
            imap: ServerAddress, smtp: ServerAddress, username: String, sealedSecret: [UInt8], status: MailboxRecord.Status, now: Int64
        ) {
            self.id = id
            self.userID = userID
            self.emailAddress = emailAddress
            self.provider = provider
            self.authMethod = authMethod
            self.imap = imap
            self.smtp = smtp
            self.username = username
            self.sealedSecret = sealedSecret
            self.status = status
            self.now = now
        }
    }

    package static func insert(_ db: SQLiteConnection, _ new: NewMailbox) throws {
        try db.run("""
            INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                smtp_host, smtp_port, smtp_security, username, secret, status, status_since, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(new.id), .text(new.userID), .text(new.emailAddress), .text(new.provider.stored),
             .text(new.authMethod.stored), .text(new.imap.host), .integer(Int64(new.imap.port)),
             .text(new.imap.security.stored), .text(new.smtp.host), .integer(Int64(new.smtp.port)),
             .text(new.smtp.security.stored), .text(new.username), .blob(new.sealedSecret),
             .text(new.status.stored), .integer(new.now), .integer(new.now)])
        // Its first sync reads the backfill window with every lead known then: nothing queued
        // before it is retro-matched again.
        try RetroMatchStore.startAtHead(db, mailboxID: new.id)
    }

    /// Replaces login name, server settings and (when given) the sealed secret.
    package static func updateCredentials(
        _ db: SQLiteConnection, id: String, username: String, imap: ServerAddress, smtp: ServerAddress, sealedSecret: [UInt8]?
    ) throws {
        try db.run("""
            UPDATE mailboxes SET username = ?, imap_host = ?, imap_port = ?, imap_security = ?,
                smtp_host = ?, smtp_port = ?, smtp_security = ?, secret = coalesce(?, secret) WHERE id = ?
            """,
            [.text(username), .text(imap.host), .integer(Int64(imap.port)), .text(imap.security.stored),
             .text(smtp.host), .integer(Int64(smtp.port)), .text(smtp.security.stored),
             sealedSecret.map { .blob($0) } ?? .null, .text(id)])
    }

    package static func setStatus(_ db: SQLiteConnection, id: String, _ status: MailboxRecord.Status, now: Int64) throws {
        try db.run("UPDATE mailboxes SET status = ?, status_since = ? WHERE id = ?",
                   [.text(status.stored), .integer(now), .text(id)])
    }

    /// Marks the mailbox disabled and wipes its secret: a disabled mailbox keeps no credentials,
    /// and leaves the sync schedule.
    package static func disable(_ db: SQLiteConnection, id: String, now: Int64) throws {
        try db.run("UPDATE mailboxes SET status = ?, status_since = ?, disabled_at = ?, secret = NULL, next_sync_at = NULL WHERE id = ?",
                   [.text(MailboxRecord.Status.disabled.stored), .integer(now), .integer(now), .text(id)])
    }

    /// Puts the mailbox on the sync schedule at `at` (µs; nil takes it off). `freshStart` also
    /// ends its failure streak, as new credentials or a resync do. Tell the engine afterwards
    /// (`env.syncRequests.scheduleChanged`).
    package static func schedule(_ db: SQLiteConnection, id: String, at: Int64?, freshStart: Bool = false) throws {
        let fresh: SQLiteValue = .integer(freshStart ? 1 : 0)
        try db.run("""
            UPDATE mailboxes SET next_sync_at = ?,
                failing_since = CASE WHEN ? THEN NULL ELSE failing_since END,
                failed_attempts = CASE WHEN ? THEN 0 ELSE failed_attempts END,
                attempts_exhausted = CASE WHEN ? THEN 0 ELSE attempts_exhausted END
            WHERE id = ?
            """, [at.map { .integer($0) } ?? .null, fresh, fresh, fresh, .text(id)])
    }

    /// The sealed secret as stored (nil once disabled), for the sync engine and tests.
    package static func sealedSecret(_ db: SQLiteConnection, id: String) throws -> [UInt8]? {
        try db.scalar("SELECT secret FROM mailboxes WHERE id = ?", [.text(id)])?.bytes
    }

    /// Removes what the mailbox recorded: its hold on each timeline entry, and the entries no
    /// other mailbox holds (their participants and opportunity links go with them by cascade, and
    /// stored bodies nothing refers to any more). An entry another user's mailbox also recorded
    /// stays, attributed to that mailbox. Returns how many entries were removed.
    package static func removeTimelineEntries(_ db: SQLiteConnection, mailboxID: String) throws -> Int {
        try db.run("DELETE FROM timeline_sources WHERE mailbox_id = ?", [.text(mailboxID)])
        try db.run("""
            UPDATE timeline_entries SET (mailbox_id, user_id, direction) = (
                SELECT s.mailbox_id, s.user_id, s.direction FROM timeline_sources s
                WHERE s.entry_id = timeline_entries.id ORDER BY s.mailbox_id LIMIT 1)
            WHERE mailbox_id = ? AND EXISTS (SELECT 1 FROM timeline_sources s WHERE s.entry_id = timeline_entries.id)
            """, [.text(mailboxID)])
        try db.run("DELETE FROM mailbox_messages WHERE mailbox_id = ?", [.text(mailboxID)])
        try db.run("DELETE FROM folder_cursors WHERE mailbox_id = ?", [.text(mailboxID)])
        return try TimelineRecords.deleteEntries(db, mailboxID: mailboxID)
    }

    /// Moves the oldest `PENDING` mailboxes to `ENABLED` while the company is below `limit`,
    /// recording a `STATUS_CHANGED` event for each. Returns the promoted mailboxes.
    ///
    /// Called after a mailbox gives up its place (disabled); also the thing to call after the
    /// company's limit is raised.
    @discardableResult
    package static func promotePending(_ db: SQLiteConnection, limit: UInt32, now: Int64) throws -> [MailboxRecord] {
        let free = Int(limit) - (try syncingCount(db))
        guard free > 0 else { return [] }
        let waiting = try db.query(
            "SELECT \(columns) FROM mailboxes WHERE disabled_at IS NULL AND status = ? ORDER BY created_at, id LIMIT ?",
            [.text(MailboxRecord.Status.pending.stored), .integer(Int64(free))]
        ).map(mailbox)
        var promoted: [MailboxRecord] = []
        for var mailbox in waiting {
            try setStatus(db, id: mailbox.id, .enabled, now: now)
            try schedule(db, id: mailbox.id, at: now, freshStart: true)
            try SyncEventRecords.insert(
                db, kind: .statusChanged, mailboxID: mailbox.id, userID: mailbox.userId, status: .enabled,
                detail: "a place opened under the company's mailbox sync limit", now: now)
            mailbox.status = .enabled
            mailbox.statusSince = Timestamp(microsecondsSinceEpoch: now)
            promoted.append(mailbox)
        }
        return promoted
    }
}
