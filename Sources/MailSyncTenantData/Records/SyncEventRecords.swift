import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage

/// Reading and writing the `sync_events` table: what happened to each mailbox, in order.
///
/// Events are appended inside the transaction that made the change they describe, so a change
/// and its event are saved together or not at all. `seq` orders them.
enum SyncEventRecords {
    static let columns = "seq, id, time, kind, mailbox_id, user_id, status, emails_synced, detail"

    static func event(_ row: Row) -> SyncEvent {
        var event = SyncEvent()
        event.id = row[1].string ?? ""
        event.time = Timestamp(microsecondsSinceEpoch: row[2].int64 ?? 0)
        event.kind = SyncEventKind(rawValue: Int32(row[3].int64 ?? 0))
        event.mailboxId = row[4].string ?? ""
        event.userId = row[5].string ?? ""
        event.status = MailboxStatus(rawValue: Int32(row[6].int64 ?? 0))
        event.emailsSynced = UInt32(clamping: row[7].int64 ?? 0)
        event.detail = row[8].string ?? ""
        return event
    }

    /// Appends an event and returns it as callers see it.
    @discardableResult
    static func insert(
        _ db: SQLiteConnection, kind: SyncEventKind, mailboxID: String, userID: String,
        status: MailboxStatus = .unspecified, emailsSynced: UInt32 = 0, detail: String, now: Int64
    ) throws -> SyncEvent {
        let id = RowID.make()
        try db.run("""
            INSERT INTO sync_events(id, time, kind, mailbox_id, user_id, status, emails_synced, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(id), .integer(now), .integer(Int64(kind.rawValue)), .text(mailboxID), .text(userID),
             .integer(Int64(status.rawValue)), .integer(Int64(emailsSynced)), .text(detail)])
        var event = SyncEvent()
        event.id = id
        event.time = Timestamp(microsecondsSinceEpoch: now)
        event.kind = kind
        event.mailboxId = mailboxID
        event.userId = userID
        event.status = status
        event.emailsSynced = emailsSynced
        event.detail = detail
        return event
    }

    /// What to list: one mailbox or all, one user's or everyone's, some kinds or all.
    struct Filter: Sendable {
        var mailboxID: String?
        var userID: String?
        /// Empty: every kind. Deduplicated again when the query is built (`distinctKinds`).
        var kinds: [SyncEventKind] = []
    }

    /// Each kind once, in ascending raw value: an `IN` list (and a watcher's per-event check) costs
    /// at most one term per distinct kind, whatever the request repeated.
    static func distinctKinds(_ kinds: [SyncEventKind]) -> [SyncEventKind] {
        Set(kinds).sorted { $0.rawValue < $1.rawValue }
    }

    /// Events newest first, older than `beforeSeq` (0: from the newest), at most `limit`.
    /// Returns each event with its `seq`, the cursor for the next page.
    static func list(_ db: SQLiteConnection, _ filter: Filter, beforeSeq: Int64, limit: Int64) throws -> [(seq: Int64, event: SyncEvent)] {
        try select(db, filter, seq: beforeSeq > 0 ? ("<", beforeSeq) : nil, order: "DESC", limit: limit)
    }

    /// Events oldest first, newer than `afterSeq`, at most `limit`: what a watcher has not seen.
    ///
    /// Writes are serialised and `seq` is assigned at insert, so once a read has returned a `seq`,
    /// no event with a smaller one can appear later.
    static func list(_ db: SQLiteConnection, _ filter: Filter, afterSeq: Int64, limit: Int64) throws -> [(seq: Int64, event: SyncEvent)] {
        try select(db, filter, seq: (">", afterSeq), order: "ASC", limit: limit)
    }

    /// The newest event's `seq`; 0 when there are none.
    static func latestSeq(_ db: SQLiteConnection) throws -> Int64 {
        try db.scalar("SELECT coalesce(max(seq), 0) FROM sync_events")?.int64 ?? 0
    }

    /// The kinds whose `status` is the mailbox's status after the event; every status change
    /// records one of them in the same transaction.
    static let statusKinds: [SyncEventKind] = [.connected, .statusChanged, .disabled]

    /// Every mailbox's status transitions that matter to `[start, end)`: the last one before
    /// `start` (the status the period opens with) and those in the period, by mailbox then `seq`.
    ///
    /// Reads the whole period's transitions at once: a few per mailbox in practice.
    static func statusTransitions(
        _ db: SQLiteConnection, start: Int64, end: Int64
    ) throws -> [(mailboxID: String, time: Int64, status: MailboxStatus)] {
        let kinds = statusKinds.map { String($0.rawValue) }.joined(separator: ", ")
        return try db.query("""
            SELECT mailbox_id, time, status FROM sync_events
            WHERE kind IN (\(kinds)) AND time < ? AND (time >= ? OR seq IN (
                SELECT max(seq) FROM sync_events WHERE kind IN (\(kinds)) AND time < ? GROUP BY mailbox_id))
            ORDER BY mailbox_id, seq
            """, [.integer(end), .integer(start), .integer(start)]
        ).map { (mailboxID: $0[0].string ?? "", time: $0[1].int64 ?? 0, status: MailboxStatus(rawValue: Int32($0[2].int64 ?? 0))) }
    }

    private static func select(
        _ db: SQLiteConnection, _ filter: Filter, seq: (op: String, value: Int64)?, order: String, limit: Int64
    ) throws -> [(seq: Int64, event: SyncEvent)] {
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
            conditions.append("kind IN (\(distinctKinds(filter.kinds).map { String($0.rawValue) }.joined(separator: ", ")))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(.integer(limit))
        return try db.query("SELECT \(columns) FROM sync_events \(whereClause) ORDER BY seq \(order) LIMIT ?", arguments)
            .map { (seq: $0[0].int64 ?? 0, event: event($0)) }
    }
}

/// A page token that holds a position (a `seq`) rather than an offset, so a list read newest
/// first does not repeat rows when newer ones arrive between pages.
///
/// Same encoding as `Page` (base64url of `"<kind>:<n>"`), so `Page(size:token:kind:)` parses it
/// and its `offset` is the cursor.
enum SyncEventCursor {
    static func token(kind: String, seq: Int64) -> String {
        Data("\(kind):\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
