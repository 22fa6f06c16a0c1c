import Foundation
import MailSyncStorage

/// Reading and removing timeline entries ("Life of the Lead") in a company's database.
///
/// Removing entries removes their participants and opportunity links (foreign-key cascade) and
/// then every stored message body no remaining entry refers to, so "remove previous
/// communication" and deleting a lead leave no mail text behind.
package enum TimelineRecords {
    /// One page of a lead's entries, newest first (`date DESC, id`), with participants by position,
    /// linked opportunity ids and every user whose mailbox holds the email. `body` is what is
    /// stored of the message for entries the caller may read (`readsAll`, or entries one of
    /// `readerUserID`'s mailboxes holds): its text, else its raw message (``TimelineBodies``); nil
    /// for the others and for entries with neither.
    package static func page(
        _ db: SQLiteConnection, leadID: String, limit: Int64, offset: Int64, readerUserID: String, readsAll: Bool
    ) throws -> [(entry: TimelineEntryRecord, mayRead: Bool, body: TimelineBodies.Stored?)] {
        let rows = try db.query("""
            SELECT t.id, t.subject, t.date, t.direction, t.mailbox_id, t.user_id, t.smart_mail, t.date_source,
                   CASE WHEN ? = 1 OR t.user_id = ?
                          OR EXISTS (SELECT 1 FROM timeline_sources s WHERE s.entry_id = t.id AND s.user_id = ?)
                        THEN coalesce(m.body_zlib, m.raw_zlib) END AS stored,
                   m.body_zlib IS NULL AS derived
            FROM timeline_entries t LEFT JOIN messages m ON m.message_key = t.message_key
            WHERE t.lead_id = ? ORDER BY t.date DESC, t.id LIMIT ? OFFSET ?
            """, [.integer(readsAll ? 1 : 0), .text(readerUserID), .text(readerUserID), .text(leadID), .integer(limit), .integer(offset)])
        return try rows.map { row in
            let r = RowReader(row, table: "timeline_entries")
            let id = try r.string("id")
            let userID = try r.string("user_id")
            var users = Set(try db.query("SELECT user_id FROM timeline_sources WHERE entry_id = ?", [.text(id)])
                .map { try RowReader($0, table: "timeline_sources").string("user_id") })
            users.insert(userID)
            let entry = TimelineEntryRecord(
                id: id, leadId: leadID, subject: try r.string("subject"), date: try r.timestamp("date"),
                direction: try r.value("direction"), mailboxId: try r.string("mailbox_id"), userId: userID,
                smartMail: try r.bool("smart_mail"), dateSource: try r.value("date_source"),
                participants: try participants(db, entryID: id), userIds: users.sorted(),
                opportunityIds: try db.query(
                    "SELECT opportunity_id FROM opportunity_links WHERE entry_id = ? ORDER BY opportunity_id", [.text(id)]
                ).map { try RowReader($0, table: "opportunity_links").string("opportunity_id") })
            let stored = try r.optionalBytes("stored").map { try r.bool("derived") ? TimelineBodies.Stored.raw($0) : .text($0) }
            return (entry, readsAll || users.contains(readerUserID), stored)
        }
    }

    package static func participants(_ db: SQLiteConnection, entryID: String) throws -> [TimelineEntryRecord.Participant] {
        try db.query("SELECT entry_id, kind, address, display_name FROM timeline_participants WHERE entry_id = ? ORDER BY position",
                     [.text(entryID)]).map { row in
            let r = RowReader(row, table: "timeline_participants")
            return TimelineEntryRecord.Participant(
                kind: try r.value("kind"), address: try r.string("address"), displayName: try r.string("display_name"))
        }
    }

    /// Deletes a mailbox's entries. Returns how many.
    @discardableResult
    package static func deleteEntries(_ db: SQLiteConnection, mailboxID: String) throws -> Int {
        try delete(db, where: "mailbox_id = ?", .text(mailboxID))
    }

    /// Deletes a lead's entries. Returns how many.
    @discardableResult
    package static func deleteEntries(_ db: SQLiteConnection, leadID: String) throws -> Int {
        try delete(db, where: "lead_id = ?", .text(leadID))
    }

    private static func delete(_ db: SQLiteConnection, where condition: String, _ argument: SQLiteValue) throws -> Int {
        let keys = try db.query("SELECT DISTINCT message_key FROM timeline_entries WHERE \(condition)", [argument])
            .compactMap { $0[0].string }
        let removed = try db.run("DELETE FROM timeline_entries WHERE \(condition)", [argument])
        guard !keys.isEmpty else { return removed }
        // One pass over the remaining entries (the NOT IN list is built once), not one per key.
        let json = String(decoding: try JSONSerialization.data(withJSONObject: keys), as: UTF8.self)
        try db.run("""
            DELETE FROM messages WHERE message_key IN (SELECT value FROM json_each(?))
              AND message_key NOT IN (SELECT message_key FROM timeline_entries)
            """, [.text(json)])
        return removed
    }
}
