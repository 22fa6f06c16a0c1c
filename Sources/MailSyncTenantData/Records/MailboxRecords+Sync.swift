import MailSyncStorage

/// The sync engine's reads and writes of a mailbox row: its failure streak, provider usage,
/// backfill start, the provider's hold and the end of an attempt. Every function runs inside the
/// caller's transaction.
extension MailboxRecords {
    /// What a sync needs of a mailbox row besides ``MailboxRecord``.
    package struct SyncState: Sendable, Equatable {
        /// The sealed password or token (`secret`); nil when none is stored.
        package var sealedSecret: [UInt8]?
        /// When the current failure streak began (µs); nil while healthy.
        package var failingSince: Int64?
        package var failedAttempts: Int
        package var attemptsExhausted: Bool
        /// Where a backfill starts (µs); nil: none asked for.
        package var backfillSince: Int64?
        /// The provider usage counters and the day (`yyyy-MM-dd`) they count.
        package var usageDay: String
        package var usageBytes: Int64
        package var usageCommands: Int64
    }

    /// The mailbox's sync state, or nil when the row does not exist. A missing or mistyped value
    /// is a ``TenantDataError/Kind/corruptRow`` naming it.
    package static func syncState(_ db: SQLiteConnection, id: String) throws -> SyncState? {
        guard let row = try db.query(
            "SELECT id, secret, failing_since, failed_attempts, attempts_exhausted, backfill_since, usage_day, usage_bytes, usage_commands FROM mailboxes WHERE id = ?",
            [.text(id)]).first else { return nil }
        let r = RowReader(row, table: "mailboxes")
        return SyncState(
            sealedSecret: try r.optionalBytes("secret"), failingSince: try r.optionalInt64("failing_since"),
            failedAttempts: try r.integer("failed_attempts"), attemptsExhausted: try r.bool("attempts_exhausted"),
            backfillSince: try r.optionalInt64("backfill_since"), usageDay: try r.string("usage_day"),
            usageBytes: try r.int64("usage_bytes"), usageCommands: try r.int64("usage_commands"))
    }

    /// Sets the user's recorded count for today as shown on the mailbox (`synced_today`).
    package static func setSyncedToday(_ db: SQLiteConnection, id: String, _ count: Int) throws {
        try db.run("UPDATE mailboxes SET synced_today = ? WHERE id = ?", [.integer(Int64(count)), .text(id)])
    }

    /// Records the provider's hold: until when (µs) and why (the first 2000 characters).
    package static func setDeferral(_ db: SQLiteConnection, id: String, until: Int64, reason: String) throws {
        try db.run("UPDATE mailboxes SET deferred_until = ?, deferred_reason = ? WHERE id = ?",
                   [.integer(until), .text(String(reason.prefix(2000))), .text(id)])
    }

    /// Clears the provider's hold.
    package static func clearDeferral(_ db: SQLiteConnection, id: String) throws {
        try db.run("UPDATE mailboxes SET deferred_until = NULL, deferred_reason = '' WHERE id = ?", [.text(id)])
    }

    /// Stores the end of a sync attempt: the failure streak, the next run (nil: none), and
    /// `last_synced_at = now` when it `succeeded` (unchanged otherwise).
    package static func recordAttempt(
        _ db: SQLiteConnection, id: String, failingSince: Int64?, failedAttempts: Int, exhausted: Bool,
        nextSyncAt: Int64?, succeeded: Bool, now: Int64
    ) throws {
        try db.run("""
            UPDATE mailboxes SET failing_since = ?, failed_attempts = ?, attempts_exhausted = ?, next_sync_at = ?,
                last_synced_at = CASE WHEN ? THEN ? ELSE last_synced_at END
            WHERE id = ?
            """, [failingSince.map { .integer($0) } ?? .null, .integer(Int64(failedAttempts)),
                  .integer(exhausted ? 1 : 0), nextSyncAt.map { .integer($0) } ?? .null,
                  .integer(succeeded ? 1 : 0), .integer(now), .text(id)])
    }
}
