import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage

/// Reading and writing the `mailboxes` table of a company's database.
///
/// Every function runs inside the caller's transaction (`env.write`/`env.read`). The sealed secret
/// is never read back into a `Mailbox`: only `sealedSecret(_:id:)` touches it, for the sync engine.
enum MailboxRecords {
    static let columns = """
        id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security, \
        smtp_host, smtp_port, smtp_security, username, status, status_since, last_synced_at, synced_today, \
        created_at, disabled_at, deferred_until, deferred_reason, usage_day, usage_bytes, usage_commands, usage_sends
        """

    /// Statuses that occupy a place under the company's mailbox sync limit: mailboxes being synced
    /// or retried. `PENDING` waits for a place; `CONNECTION_ISSUE` has stopped trying (and is not
    /// billed), so it gives its place up; `DISABLED` is gone.
    static let syncingStatuses: [MailboxStatus] = [.enabled, .error]

    /// The context a mailbox's secret is sealed under, binding it to its tenant and row.
    static func secretContext(tenant: TenantID, mailboxID: String) -> String {
        "tenant/\(tenant)/mailbox/\(mailboxID)/secret"
    }

    static func mailbox(_ row: Row) -> Mailbox {
        var mailbox = Mailbox()
        mailbox.id = row[0].string ?? ""
        mailbox.userId = row[1].string ?? ""
        mailbox.emailAddress = row[2].string ?? ""
        mailbox.provider = MailProvider(rawValue: Int32(row[3].int64 ?? 0))
        mailbox.authMethod = AuthMethod(rawValue: Int32(row[4].int64 ?? 0))
        mailbox.imap = endpoint(host: row[5], port: row[6], security: row[7])
        mailbox.smtp = endpoint(host: row[8], port: row[9], security: row[10])
        mailbox.username = row[11].string ?? ""
        mailbox.status = MailboxStatus(rawValue: Int32(row[12].int64 ?? 0))
        mailbox.statusSince = Timestamp(microsecondsSinceEpoch: row[13].int64 ?? 0)
        mailbox.lastSyncedAt = row[14].int64.map { Timestamp(microsecondsSinceEpoch: $0) }
        mailbox.syncedToday = UInt32(clamping: row[15].int64 ?? 0)
        mailbox.createdAt = Timestamp(microsecondsSinceEpoch: row[16].int64 ?? 0)
        mailbox.deferredUntil = row[18].int64.map { Timestamp(microsecondsSinceEpoch: $0) }
        mailbox.deferredReason = row[19].string ?? ""
        // Usage on the UTC day of the last run (row[20]).
        mailbox.downloadedBytesToday = UInt64(clamping: row[21].int64 ?? 0)
        mailbox.commandsToday = UInt32(clamping: row[22].int64 ?? 0)
        mailbox.sendsToday = UInt32(clamping: row[23].int64 ?? 0)
        return mailbox
    }

    private static func endpoint(host: SQLiteValue, port: SQLiteValue, security: SQLiteValue) -> ServerEndpoint {
        var endpoint = ServerEndpoint()
        endpoint.host = host.string ?? ""
        endpoint.port = UInt32(clamping: port.int64 ?? 0)
        endpoint.security = ConnectionSecurity(rawValue: Int32(security.int64 ?? 0))
        return endpoint
    }

    static func find(_ db: SQLiteConnection, id: String) throws -> Mailbox? {
        try db.query("SELECT \(columns) FROM mailboxes WHERE id = ?", [.text(id)]).first.map(mailbox)
    }

    /// Adds a sync run's or a Smart Mail's use of the provider to the mailbox's counts for `day`
    /// (`yyyy-MM-dd`, UTC); counts of an earlier day start over. The provider governor's record
    /// (`ProviderBudget`).
    static func addUsage(
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
    static func require(_ db: SQLiteConnection, id: String) throws -> Mailbox {
        guard let mailbox = try find(db, id: id) else { throw RPCError(.notFound, "no mailbox '\(id.prefix(80))'") }
        return mailbox
    }

    /// The user's mailbox that is not disabled, if any (at most one: a unique index sees to it).
    static func active(_ db: SQLiteConnection, userID: String) throws -> Mailbox? {
        try db.query("SELECT \(columns) FROM mailboxes WHERE user_id = ? AND disabled_at IS NULL", [.text(userID)])
            .first.map(mailbox)
    }

    /// How many mailboxes hold a place under the mailbox sync limit.
    static func syncingCount(_ db: SQLiteConnection) throws -> Int {
        let placeholders = syncingStatuses.map { String($0.rawValue) }.joined(separator: ", ")
        return Int(try db.scalar("SELECT count(*) FROM mailboxes WHERE disabled_at IS NULL AND status IN (\(placeholders))")?.int64 ?? 0)
    }

    /// The status a mailbox that wants to sync gets: `ENABLED` while the company is below its
    /// limit (counting the syncing mailboxes other than itself), `PENDING` at it.
    static func admissionStatus(_ db: SQLiteConnection, limit: UInt32) throws -> MailboxStatus {
        try syncingCount(db) < Int(limit) ? .enabled : .pending
    }

    struct NewMailbox: Sendable {
        var id: String
        var userID: String
        var emailAddress: String
        var provider: MailProvider
        var authMethod: AuthMethod
        var imap: ServerEndpoint
        var smtp: ServerEndpoint
        var username: String
        var sealedSecret: [UInt8]
        var status: MailboxStatus
        var now: Int64
    }

    static func insert(_ db: SQLiteConnection, _ new: NewMailbox) throws {
        try db.run("""
            INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                smtp_host, smtp_port, smtp_security, username, secret, status, status_since, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(new.id), .text(new.userID), .text(new.emailAddress), .integer(Int64(new.provider.rawValue)),
             .integer(Int64(new.authMethod.rawValue)), .text(new.imap.host), .integer(Int64(new.imap.port)),
             .integer(Int64(new.imap.security.rawValue)), .text(new.smtp.host), .integer(Int64(new.smtp.port)),
             .integer(Int64(new.smtp.security.rawValue)), .text(new.username), .blob(new.sealedSecret),
             .integer(Int64(new.status.rawValue)), .integer(new.now), .integer(new.now)])
        // Its first sync reads the backfill window with every lead known then: nothing queued
        // before it is retro-matched again.
        try RetroMatchStore.startAtHead(db, mailboxID: new.id)
    }

    /// Replaces login name, server settings and (when given) the sealed secret.
    static func updateCredentials(
        _ db: SQLiteConnection, id: String, username: String, imap: ServerEndpoint, smtp: ServerEndpoint, sealedSecret: [UInt8]?
    ) throws {
        try db.run("""
            UPDATE mailboxes SET username = ?, imap_host = ?, imap_port = ?, imap_security = ?,
                smtp_host = ?, smtp_port = ?, smtp_security = ?, secret = coalesce(?, secret) WHERE id = ?
            """,
            [.text(username), .text(imap.host), .integer(Int64(imap.port)), .integer(Int64(imap.security.rawValue)),
             .text(smtp.host), .integer(Int64(smtp.port)), .integer(Int64(smtp.security.rawValue)),
             sealedSecret.map { .blob($0) } ?? .null, .text(id)])
    }

    static func setStatus(_ db: SQLiteConnection, id: String, _ status: MailboxStatus, now: Int64) throws {
        try db.run("UPDATE mailboxes SET status = ?, status_since = ? WHERE id = ?",
                   [.integer(Int64(status.rawValue)), .integer(now), .text(id)])
    }

    /// Marks the mailbox disabled and wipes its secret: a disabled mailbox keeps no credentials,
    /// and leaves the sync schedule.
    static func disable(_ db: SQLiteConnection, id: String, now: Int64) throws {
        try db.run("UPDATE mailboxes SET status = ?, status_since = ?, disabled_at = ?, secret = NULL, next_sync_at = NULL WHERE id = ?",
                   [.integer(Int64(MailboxStatus.disabled.rawValue)), .integer(now), .integer(now), .text(id)])
    }

    /// Puts the mailbox on the sync schedule at `at` (µs; nil takes it off). `freshStart` also
    /// ends its failure streak, as new credentials or a resync do. Tell the engine afterwards
    /// (`env.syncRequests.scheduleChanged`).
    static func schedule(_ db: SQLiteConnection, id: String, at: Int64?, freshStart: Bool = false) throws {
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
    static func sealedSecret(_ db: SQLiteConnection, id: String) throws -> [UInt8]? {
        try db.scalar("SELECT secret FROM mailboxes WHERE id = ?", [.text(id)])?.bytes
    }

    /// Removes what the mailbox recorded: its hold on each timeline entry, and the entries no
    /// other mailbox holds (their participants and opportunity links go with them by cascade, and
    /// stored bodies nothing refers to any more). An entry another user's mailbox also recorded
    /// stays, attributed to that mailbox. Returns how many entries were removed.
    static func removeTimelineEntries(_ db: SQLiteConnection, mailboxID: String) throws -> Int {
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
    static func promotePending(_ db: SQLiteConnection, limit: UInt32, now: Int64) throws -> [Mailbox] {
        let free = Int(limit) - (try syncingCount(db))
        guard free > 0 else { return [] }
        let waiting = try db.query(
            "SELECT \(columns) FROM mailboxes WHERE disabled_at IS NULL AND status = ? ORDER BY created_at, id LIMIT ?",
            [.integer(Int64(MailboxStatus.pending.rawValue)), .integer(Int64(free))]
        ).map(mailbox)
        var promoted: [Mailbox] = []
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
