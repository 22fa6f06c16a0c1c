import MailSyncStorage

/// The `messages` (one stored body per message key) and `mailbox_messages` (which mailbox
/// recorded which message, where) tables: the sync engine's reads (its writes are gathered per
/// batch in ``RecordedMailBatch``). Every function runs inside the caller's transaction.
package enum MailboxMessageRecords {
    /// Which of `keys` the mailbox already recorded. No query when `keys` is empty.
    package static func recordedKeys(_ db: SQLiteConnection, mailboxID: String, keys: [String]) throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return Set(try db.query(
            "SELECT message_key FROM mailbox_messages WHERE mailbox_id = ? AND message_key IN (SELECT value FROM json_each(?))",
            [.text(mailboxID), .text(SQLJSON.array(keys))]).map { try RowReader($0, table: "mailbox_messages").string("message_key") })
    }
}
