import MailSyncStorage

/// Reading the `error_log` table: one row per kind of error (server text) per mailbox, with when
/// it was first and last seen and how often. The sync engine writes it.
package enum ErrorLogRecords {
    package static let columns = """
        id, first_seen, last_seen, count, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, exchange
        """

    /// Decodes a row selected with ``columns``; a bad value is a ``TenantDataError`` naming it.
    package static func entry(_ row: Row) throws -> ErrorLogRecord {
        let r = RowReader(row, table: "error_log")
        return ErrorLogRecord(
            id: try r.string("id"), firstSeen: try r.timestamp("first_seen"), lastSeen: try r.timestamp("last_seen"),
            count: try r.integer("count"), mailboxId: try r.string("mailbox_id"), userId: try r.string("user_id"),
            emailAddress: try r.string("email_address"), errorClass: try r.value("error_class"),
            serverText: try r.string("server_text"), fixHint: try r.string("fix_hint"),
            exchange: (try r.optionalString("exchange") ?? "").split(separator: "\n").map(String.init))
    }

    /// The mailbox's most recently seen error, if it has any.
    package static func latest(_ db: SQLiteConnection, mailboxID: String) throws -> ErrorLogRecord? {
        try db.query(
            "SELECT \(columns) FROM error_log WHERE mailbox_id = ? ORDER BY last_seen DESC, seq DESC LIMIT 1",
            [.text(mailboxID)]
        ).first.map(entry)
    }

    /// Entries most recently seen first, optionally of one mailbox and/or one user.
    package static func list(_ db: SQLiteConnection, mailboxID: String?, userID: String?, limit: Int64, offset: Int64) throws -> [ErrorLogRecord] {
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

    /// Logs a failure: one row per mailbox and server text (its first 2000 characters); a repeat
    /// raises `count` and `last_seen` and replaces the class, hint and `exchange` (the redacted
    /// lines before the failure, newline-separated) with the latest occurrence's.
    package static func record(
        _ db: SQLiteConnection, mailboxID: String, userID: String, emailAddress: String, errorClass: ErrorLogRecord.ErrorClass,
        serverText: String, hint: String, exchange: [String], now: Int64
    ) throws {
        try db.run("""
            INSERT INTO error_log(id, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, first_seen, last_seen, count, exchange)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
            ON CONFLICT(mailbox_id, server_text) DO UPDATE SET last_seen = excluded.last_seen, count = count + 1,
                error_class = excluded.error_class, fix_hint = excluded.fix_hint, exchange = excluded.exchange
            """, [.text(RowID.make()), .text(mailboxID), .text(userID), .text(emailAddress),
                  .text(errorClass.stored), .text(String(serverText.prefix(2000))),
                  .text(hint), .integer(now), .integer(now), .text(exchange.joined(separator: "\n"))])
    }
}
