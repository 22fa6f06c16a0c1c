import MailSyncStorage

/// The `messages` (one stored body per message key) and `mailbox_messages` (which mailbox
/// recorded which message, where) tables. Every function runs inside the caller's transaction.
package enum MailboxMessageRecords {
    /// Which of `keys` the mailbox already recorded. No query when `keys` is empty.
    package static func recordedKeys(_ db: SQLiteConnection, mailboxID: String, keys: [String]) throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return Set(try db.query(
            "SELECT message_key FROM mailbox_messages WHERE mailbox_id = ? AND message_key IN (SELECT value FROM json_each(?))",
            [.text(mailboxID), .text(SQLJSON.array(keys))]).map { try RowReader($0, table: "mailbox_messages").string("message_key") })
    }

    /// Whether the mailbox already recorded the message.
    package static func isRecorded(_ db: SQLiteConnection, mailboxID: String, key: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM mailbox_messages WHERE mailbox_id = ? AND message_key = ?", [.text(mailboxID), .text(key)]) != nil
    }

    /// Stores a message's body and raw source (zlib; nil: not kept). A message stored before keeps
    /// what it has and gains what it lacked.
    package static func storeMessage(_ db: SQLiteConnection, key: String, bodyZlib: [UInt8]?, rawZlib: [UInt8]?, size: Int64) throws {
        try db.run("""
            INSERT INTO messages(message_key, body_zlib, raw_zlib, size) VALUES (?, ?, ?, ?)
            ON CONFLICT(message_key) DO UPDATE SET body_zlib = coalesce(body_zlib, excluded.body_zlib),
                raw_zlib = coalesce(raw_zlib, excluded.raw_zlib)
            """, [.text(key), bodyZlib.map { .blob($0) } ?? .null, rawZlib.map { .blob($0) } ?? .null, .integer(size)])
    }

    /// Records that the mailbox holds the message at `folder`/`uid`.
    package static func insert(_ db: SQLiteConnection, mailboxID: String, key: String, folder: String, uid: UInt32, now: Int64) throws {
        try db.run("INSERT INTO mailbox_messages(mailbox_id, message_key, folder, uid, recorded_at) VALUES (?, ?, ?, ?, ?)",
                   [.text(mailboxID), .text(key), .text(folder), .integer(Int64(uid)), .integer(now)])
    }
}
