import MailSyncStorage

extension MailboxRecords {
    /// A mailbox on the sync schedule: not disabled, `ENABLED` or `ERROR`, with a next run.
    package struct Scheduled: Sendable, Hashable {
        package var id: String
        /// µs since the epoch.
        package var nextSyncAt: Int64
        package var status: MailboxRecord.Status
    }

    /// Every mailbox on the sync schedule (the scheduler's reload of one company).
    package static func scheduled(_ db: SQLiteConnection) throws -> [Scheduled] {
        try db.query("""
            SELECT id, next_sync_at, status FROM mailboxes
            WHERE disabled_at IS NULL AND next_sync_at IS NOT NULL AND status IN (\(MailboxRecord.Status.storedList(syncingStatuses)))
            """).map { row in
            let r = RowReader(row, table: "mailboxes")
            return Scheduled(id: try r.string("id"), nextSyncAt: try r.int64("next_sync_at"), status: try r.value("status"))
        }
    }

    /// When the mailbox runs next (µs), or nil when it is off the schedule: disabled, neither
    /// `ENABLED` nor `ERROR`, or with no next run.
    package static func nextSync(_ db: SQLiteConnection, id: String) throws -> Int64? {
        try db.query(
            "SELECT id, next_sync_at FROM mailboxes WHERE id = ? AND disabled_at IS NULL AND status IN (\(MailboxRecord.Status.storedList(syncingStatuses)))",
            [.text(id)]
        ).first.flatMap { try RowReader($0, table: "mailboxes").optionalInt64("next_sync_at") }
    }
}

extension MailboxRecords {
    /// How many mailboxes that are not disabled have each status (the metrics' gauge).
    package static func countsByStatus(_ db: SQLiteConnection) throws -> [MailboxRecord.Status: Int] {
        var counts: [MailboxRecord.Status: Int] = [:]
        for row in try db.query("SELECT status, count(*) AS count FROM mailboxes WHERE disabled_at IS NULL GROUP BY status") {
            let r = RowReader(row, table: "mailboxes")
            counts[try r.value("status"), default: 0] += try r.integer("count")
        }
        return counts
    }
}

extension MailboxRecords {
    /// Mailboxes (disabled ones included) oldest first, optionally of one user and/or in one
    /// status, at most `limit` from `offset`.
    package static func list(
        _ db: SQLiteConnection, userID: String?, status: MailboxRecord.Status?, limit: Int64, offset: Int64
    ) throws -> [MailboxRecord] {
        var conditions: [String] = []
        var arguments: [SQLiteValue] = []
        if let userID {
            conditions.append("user_id = ?")
            arguments.append(.text(userID))
        }
        if let status {
            conditions.append("status = ?")
            arguments.append(.text(status.stored))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [.integer(limit), .integer(offset)]
        return try db.query(
            "SELECT \(columns) FROM mailboxes \(whereClause) ORDER BY created_at, id LIMIT ? OFFSET ?", arguments
        ).map(mailbox)
    }

    /// Brings the mailbox's next run forward to `at` (µs) if it is later or unset, and lets it
    /// try again after its retries were used up; only a mailbox on the schedule (not disabled,
    /// `ENABLED` or `ERROR`) changes. `SyncNow`.
    package static func requestSync(_ db: SQLiteConnection, id: String, at: Int64) throws {
        try db.run("""
            UPDATE mailboxes SET next_sync_at = min(coalesce(next_sync_at, ?), ?), attempts_exhausted = 0
            WHERE id = ? AND disabled_at IS NULL AND status IN (\(MailboxRecord.Status.storedList(syncingStatuses)))
            """, [.integer(at), .integer(at), .text(id)])
    }

    /// Forgets the mailbox's folder cursors, so its next run searches every folder again from
    /// `backfillSince` (µs; nil keeps the first sync's start). `Resync`.
    package static func restartFolders(_ db: SQLiteConnection, id: String, backfillSince: Int64?) throws {
        try db.run("DELETE FROM folder_cursors WHERE mailbox_id = ?", [.text(id)])
        if let backfillSince {
            try db.run("UPDATE mailboxes SET backfill_since = ? WHERE id = ?", [.integer(backfillSince), .text(id)])
        }
    }
}

extension MailboxRecords {
    /// How many Smart Mails the mailbox sent on `day` (`yyyy-MM-dd`, UTC): its count when the
    /// usage recorded is of that day, else 0. Nil when there is no such mailbox.
    package static func sends(_ db: SQLiteConnection, id: String, day: String) throws -> Int64? {
        try db.query("SELECT id, usage_day, usage_sends FROM mailboxes WHERE id = ?", [.text(id)]).first.map { row in
            let r = RowReader(row, table: "mailboxes")
            guard try r.optionalString("usage_day") == day else { return 0 }
            return try r.int64("usage_sends")
        }
    }
}

extension MailboxRecords {
    /// Sets where the mailbox's first sync starts reading (µs) unless one is set already.
    package static func startBackfill(_ db: SQLiteConnection, id: String, since: Int64) throws {
        try db.run("UPDATE mailboxes SET backfill_since = ? WHERE id = ? AND backfill_since IS NULL", [.integer(since), .text(id)])
    }

    /// Replaces the sealed secret only while it is still `old` and the mailbox is not disabled (a
    /// refresh that lost a race to another, or to a disable, stores nothing). Returns the rows
    /// changed: 1 or 0.
    @discardableResult
    package static func replaceSecret(_ db: SQLiteConnection, id: String, old: [UInt8], new: [UInt8]) throws -> Int {
        try db.run("UPDATE mailboxes SET secret = ? WHERE id = ? AND secret = ? AND disabled_at IS NULL",
                   [.blob(new), .text(id), .blob(old)])
    }
}
