import MailSyncClient
import MailSyncCoding
import MailSyncStorage

/// Reading the `error_log` table: one row per kind of error (server text) per mailbox, with when
/// it was first and last seen and how often. The sync engine writes it.
enum ErrorLogRecords {
    static let columns = """
        id, first_seen, last_seen, count, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, exchange
        """

    static func entry(_ row: Row) -> ErrorLogEntry {
        var entry = ErrorLogEntry()
        entry.id = row[0].string ?? ""
        entry.firstSeen = Timestamp(microsecondsSinceEpoch: row[1].int64 ?? 0)
        entry.lastSeen = Timestamp(microsecondsSinceEpoch: row[2].int64 ?? 0)
        entry.count = UInt32(clamping: row[3].int64 ?? 0)
        entry.mailboxId = row[4].string ?? ""
        entry.userId = row[5].string ?? ""
        entry.emailAddress = row[6].string ?? ""
        entry.errorClass = ErrorClass(rawValue: Int32(row[7].int64 ?? 0))
        entry.serverText = row[8].string ?? ""
        entry.fixHint = row[9].string ?? ""
        entry.exchange = (row[10].string ?? "").split(separator: "\n").map(String.init)
        return entry
    }

    /// The mailbox's most recently seen error, if it has any.
    static func latest(_ db: SQLiteConnection, mailboxID: String) throws -> ErrorLogEntry? {
        try db.query(
            "SELECT \(columns) FROM error_log WHERE mailbox_id = ? ORDER BY last_seen DESC, seq DESC LIMIT 1",
            [.text(mailboxID)]
        ).first.map(entry)
    }

    /// Entries most recently seen first, optionally of one mailbox and/or one user.
    static func list(_ db: SQLiteConnection, mailboxID: String?, userID: String?, limit: Int64, offset: Int64) throws -> [ErrorLogEntry] {
        var conditions: [String] = []
        var arguments: [SQLiteValue] = []
        if let mailboxID {
            conditions.append("mailbox_id = ?")
            arguments.append(.text(mailboxID))
        }
        if let userID {
            conditions.append("user_id = ?")
            arguments.append(.text(userID))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [.integer(limit), .integer(offset)]
        return try db.query(
            "SELECT \(columns) FROM error_log \(whereClause) ORDER BY last_seen DESC, seq DESC LIMIT ? OFFSET ?", arguments
        ).map(entry)
    }
}
