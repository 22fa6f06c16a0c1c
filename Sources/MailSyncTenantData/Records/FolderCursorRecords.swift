import MailSyncStorage

/// The `folder_cursors` table: how far each folder of a mailbox has been synced (everything up to
/// `highest_uid` under `uid_validity`). Every function runs inside the caller's transaction.
package enum FolderCursorRecords {
    /// The mailbox's cursors by folder name. A missing or out-of-range value is a
    /// ``TenantDataError/Kind/corruptRow`` naming it.
    package static func cursors(
        _ db: SQLiteConnection, mailboxID: String
    ) throws -> [String: (uidValidity: UInt32, highestUID: UInt32)] {
        var cursors: [String: (uidValidity: UInt32, highestUID: UInt32)] = [:]
        for row in try db.query("SELECT folder, uid_validity, highest_uid FROM folder_cursors WHERE mailbox_id = ?", [.text(mailboxID)]) {
            let r = RowReader(row, table: "folder_cursors")
            cursors[try r.string("folder")] = (try r.integer("uid_validity"), try r.integer("highest_uid"))
        }
        return cursors
    }

    /// Creates or moves the folder's cursor.
    package static func set(
        _ db: SQLiteConnection, mailboxID: String, folder: String, uidValidity: UInt32, highestUID: UInt32, now: Int64
    ) throws {
        try db.run("""
            INSERT INTO folder_cursors(mailbox_id, folder, uid_validity, highest_uid, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(mailbox_id, folder) DO UPDATE SET uid_validity = excluded.uid_validity,
                highest_uid = excluded.highest_uid, updated_at = excluded.updated_at
            """, [.text(mailboxID), .text(folder), .integer(Int64(uidValidity)), .integer(Int64(highestUID)), .integer(now)])
    }
}
