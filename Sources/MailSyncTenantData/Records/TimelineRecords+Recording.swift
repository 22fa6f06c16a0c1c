import MailSyncMatching
import MailSyncStorage

/// Putting recorded mail on leads' timelines (the sync engine's writes, gathered per batch in
/// ``RecordedMailBatch``). Every function runs inside the caller's transaction.
extension TimelineRecords {
    /// One lead's entry for one message: the key of `UNIQUE(lead_id, message_key)`.
    package struct EntryKey: Hashable, Sendable {
        package var leadID: String
        package var messageKey: String

        package init(leadID: String, messageKey: String) {
            self.leadID = leadID
            self.messageKey = messageKey
        }
    }

    /// The ids of the entries that exist among `pairs`, in as few statements as SQLite's variable
    /// limit allows (each pair is found through the `(lead_id, message_key)` index). No query when
    /// `pairs` is empty.
    package static func entryIDs(_ db: SQLiteConnection, pairs: [EntryKey]) throws -> [EntryKey: String] {
        var found: [EntryKey: String] = [:]
        let values = pairs.flatMap { [SQLiteValue.text($0.leadID), .text($0.messageKey)] }
        for row in try MultiRowStatement.query(db, head: "WITH pairs(lead_id, message_key) AS (VALUES", columns: 2, values: values, tail: """
            ) SELECT t.lead_id, t.message_key, t.id FROM pairs
            JOIN timeline_entries t ON t.lead_id = pairs.lead_id AND t.message_key = pairs.message_key
            """) {
            let r = RowReader(row, table: "timeline_entries")
            found[EntryKey(leadID: try r.string("lead_id"), messageKey: try r.string("message_key"))] = try r.string("id")
        }
        return found
    }

    /// One new entry: the lead, the message, the mailbox and user holding it, and its
    /// participants in order.
    package struct NewEntry {
        package var id: String
        package var leadID: String
        package var messageKey: String
        package var mailboxID: String
        package var userID: String
        package var subject: String
        /// µs.
        package var date: Int64
        package var direction: MessageDirection
        package var dateSource: TimelineEntryRecord.DateSource
        package var participants: [MailParticipant]

        package init(
            id: String, leadID: String, messageKey: String, mailboxID: String, userID: String, subject: String,
            date: Int64, direction: MessageDirection, dateSource: TimelineEntryRecord.DateSource, participants: [MailParticipant]
        ) {
            self.id = id
            self.leadID = leadID
            self.messageKey = messageKey
            self.mailboxID = mailboxID
            self.userID = userID
            self.subject = subject
            self.date = date
            self.direction = direction
            self.dateSource = dateSource
            self.participants = participants
        }
    }
}
