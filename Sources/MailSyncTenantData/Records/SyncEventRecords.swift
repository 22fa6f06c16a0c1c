import Foundation
import MailSyncCoding
import MailSyncStorage

/// Reading and writing the `sync_events` table: what happened to each mailbox, in order.
///
/// Events are appended inside the transaction that made the change they describe, so a change
/// and its event are saved together or not at all. `seq` orders them.
package enum SyncEventRecords {
    package static let columns = "seq, id, time, kind, mailbox_id, user_id, status, emails_synced, detail"

    /// Decodes a row selected with ``columns``; a bad value is a ``TenantDataError`` naming it.
    /// A `status` of `''` (empty text) is "none": an event that records no status.
    package static func event(_ row: Row) throws -> SyncEventRecord {
        let r = RowReader(row, table: "sync_events")
        let status: MailboxRecord.Status? = r.row["status"]?.string == "" ? nil : try r.value("status")
        return SyncEventRecord(
            id: try r.string("id"), time: try r.timestamp("time"), kind: try r.value("kind"),
            mailboxId: try r.string("mailbox_id"), userId: try r.string("user_id"),
            status: status,
            emailsSynced: try r.integer("emails_synced"), detail: try r.string("detail"))
    }

    /// Appends an event and returns it as callers see it.
    @discardableResult
    package static func insert(
        _ db: SQLiteConnection, kind: SyncEventRecord.Kind, mailboxID: String, userID: String,
        status: MailboxRecord.Status? = nil, emailsSynced: UInt32 = 0, detail: String, now: Int64
    ) throws -> SyncEventRecord {
        let id = RowID.make()
        try db.run("""
            INSERT INTO sync_events(id, time, kind, mailbox_id, user_id, status, emails_synced, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(id), .integer(now), .text(kind.stored), .text(mailboxID), .text(userID),
             .text(status?.stored ?? ""), .integer(Int64(emailsSynced)), .text(detail)])
        return SyncEventRecord(
            id: id, time: Timestamp(microsecondsSinceEpoch: now), kind: kind, mailboxId: mailboxID, userId: userID,
            status: status, emailsSynced: emailsSynced, detail: detail)
    }

    /// What to list: one mailbox or all, one user's or everyone's, some kinds or all.
    package struct Filter: Sendable {
        package var mailboxID: String?
        package var userID: String?
        /// Empty: every kind. Deduplicated again when the query is built (`distinctKinds`).
        package var kinds: [SyncEventRecord.Kind] = []

        package init(mailboxID: String? = nil, userID: String? = nil, kinds: [SyncEventRecord.Kind] = []) {
            self.mailboxID = mailboxID
            self.userID = userID
            self.kinds = kinds
        }
    }

    /// Each kind once, in declaration order: an `IN` list (and a watcher's per-event check) costs
    /// at most one term per distinct kind, whatever the request repeated.
    package static func distinctKinds(_ kinds: [SyncEventRecord.Kind]) -> [SyncEventRecord.Kind] {
        let wanted = Set(kinds)
        return SyncEventRecord.Kind.allCases.filter(wanted.contains)
    }

    /// Events newest first, older than `beforeSeq` (0: from the newest), at most `limit`.
    /// Returns each event with its `seq`, the cursor for the next page.
    package static func list(_ db: SQLiteConnection, _ filter: Filter, beforeSeq: Int64, limit: Int64) throws -> [(seq: Int64, event: SyncEventRecord)] {
        try select(db, filter, seq: beforeSeq > 0 ? ("<", beforeSeq) : nil, order: "DESC", limit: limit)
    }

    /// Events oldest first, newer than `afterSeq`, at most `limit`: what a watcher has not seen.
    ///
    /// Writes are serialised and `seq` is assigned at insert, so once a read has returned a `seq`,
    /// no event with a smaller one can appear later.
    package static func list(_ db: SQLiteConnection, _ filter: Filter, afterSeq: Int64, limit: Int64) throws -> [(seq: Int64, event: SyncEventRecord)] {
        try select(db, filter, seq: (">", afterSeq), order: "ASC", limit: limit)
    }

    /// The newest event's `seq`; 0 when there are none.
    package static func latestSeq(_ db: SQLiteConnection) throws -> Int64 {
        try db.scalar("SELECT coalesce(max(seq), 0) FROM sync_events")?.int64 ?? 0
    }

    /// The kinds whose `status` is the mailbox's status after the event; every status change
    /// records one of them in the same transaction.
    package static let statusKinds: [SyncEventRecord.Kind] = [.connected, .statusChanged, .disabled]

    /// Every mailbox's status transitions that matter to `[start, end)`: the last one before
    /// `start` (the status the period opens with) and those in the period, by mailbox then `seq`.
    ///
    /// Reads the whole period's transitions at once: a few per mailbox in practice.
    package static func statusTransitions(
        _ db: SQLiteConnection, start: Int64, end: Int64
    ) throws -> [(mailboxID: String, time: Int64, status: MailboxRecord.Status)] {
        let kinds = SyncEventRecord.Kind.storedList(statusKinds)
        return try db.query("""
            SELECT mailbox_id, time, status FROM sync_events
            WHERE kind IN (\(kinds)) AND time < ? AND (time >= ? OR seq IN (
                SELECT max(seq) FROM sync_events WHERE kind IN (\(kinds)) AND time < ? GROUP BY mailbox_id))
            ORDER BY mailbox_id, seq
            """, [.integer(end), .integer(start), .integer(start)]
        ).map { row in
            let r = RowReader(row, table: "sync_events")
            return (mailboxID: try r.string("mailbox_id"), time: try r.int64("time"), status: try r.value("status"))
        }
    }

    private static func select(
        _ db: SQLiteConnection, _ filter: Filter, seq: (op: String, value: Int64)?, order: String, limit: Int64
    ) throws -> [(seq: Int64, event: SyncEventRecord)] {
        var conditions: [String] = []
        var arguments: [SQLiteValue] = []
        if let seq {
            conditions.append("seq \(seq.op) ?")
            arguments.append(.integer(seq.value))
        }
        if let mailboxID = filter.mailboxID {
            conditions.append("mailbox_id = ?")
            arguments.append(.text(mailboxID))
        }
        if let userID = filter.userID {
            conditions.append("user_id = ?")
            arguments.append(.text(userID))
        }
        if !filter.kinds.isEmpty {
            conditions.append("kind IN (\(SyncEventRecord.Kind.storedList(distinctKinds(filter.kinds))))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(.integer(limit))
        return try db.query("SELECT \(columns) FROM sync_events \(whereClause) ORDER BY seq \(order) LIMIT ?", arguments)
            .map { (seq: try RowReader($0, table: "sync_events").int64("seq"), event: try event($0)) }
    }
}

/// A page token that holds a position (a `seq`) rather than an offset, so a list read newest
/// first does not repeat rows when newer ones arrive between pages.
///
/// Same encoding as `Page` (base64url of `"<kind>:<n>"`), so `Page(size:token:kind:)` parses it
/// and its `offset` is the cursor.
package enum SyncEventCursor {
    package static func token(kind: String, seq: Int64) -> String {
        Data("\(kind):\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
