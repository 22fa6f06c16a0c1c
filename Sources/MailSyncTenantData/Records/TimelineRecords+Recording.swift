import MailSyncMatching
import MailSyncStorage

/// Putting recorded mail on leads' timelines (the sync engine's writes). Every function runs
/// inside the caller's transaction.
extension TimelineRecords {
    /// The id of the lead's entry for the message, or nil when there is none.
    package static func entryID(_ db: SQLiteConnection, leadID: String, messageKey: String) throws -> String? {
        guard let row = try db.query(
            "SELECT id FROM timeline_entries WHERE lead_id = ? AND message_key = ?", [.text(leadID), .text(messageKey)]).first
        else { return nil }
        return try RowReader(row, table: "timeline_entries").string("id")
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

    /// Inserts the entry and its participants (position = index in `participants`).
    package static func insert(_ db: SQLiteConnection, _ entry: NewEntry) throws {
        try db.run("""
            INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, date_source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(entry.id), .text(entry.leadID), .text(entry.messageKey), .text(entry.mailboxID), .text(entry.userID),
                  .text(entry.subject), .integer(entry.date), .text(entry.direction.stored), .text(entry.dateSource.stored)])
        for (position, participant) in entry.participants.enumerated() {
            try db.run("INSERT INTO timeline_participants VALUES (?, ?, ?, ?, ?)", [
                .text(entry.id), .integer(Int64(position)), .text(participant.kind.stored),
                .text(participant.address), .text(participant.displayName)])
        }
    }

    /// Records that the mailbox (and its user) holds the entry's email; nothing when it already does.
    package static func addSource(
        _ db: SQLiteConnection, entryID: String, mailboxID: String, userID: String, direction: MessageDirection
    ) throws {
        try db.run("INSERT OR IGNORE INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES (?, ?, ?, ?)",
                   [.text(entryID), .text(mailboxID), .text(userID), .text(direction.stored)])
    }

    /// Links the entry to every open opportunity of the lead; links already there are kept.
    package static func linkOpenOpportunities(_ db: SQLiteConnection, entryID: String, leadID: String) throws {
        try db.run("""
            INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id)
            SELECT ?, id FROM opportunities WHERE lead_id = ? AND status = ?
            """, [.text(entryID), .text(leadID), .text(LeadRecords.OpportunityStatus.open.stored)])
    }
}
