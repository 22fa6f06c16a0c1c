import MailSyncMatching
import MailSyncStorage

/// The rows one sync batch adds to the timeline, gathered in order and written with one
/// multi-row statement per table (``MultiRowStatement``, split under SQLite's variable limit).
///
/// ``write(_:)`` inserts in foreign-key order: stored messages, timeline entries, their
/// participants, sources, opportunity links, the mailbox's recorded messages, then the events
/// (their `seq` follows the order they were added). It runs inside the caller's transaction; a
/// failure throws the statement's `StorageError` and the caller's transaction rolls back, so a
/// batch is written whole or not at all. Conflicts behave as the single-row statements did: a
/// message stored before keeps its bodies and gains those it lacked, a source or opportunity link
/// already there is kept; a new entry or recorded message that already exists is an error (the
/// caller looks them up first, ``TimelineRecords/entryIDs(_:pairs:)``).
package struct RecordedMailBatch {
    private var messages: [SQLiteValue] = []
    private var entries: [SQLiteValue] = []
    private var participants: [SQLiteValue] = []
    private var sources: [SQLiteValue] = []
    private var opportunityPairs: [SQLiteValue] = []
    private var mailboxMessages: [SQLiteValue] = []
    private var events: [SQLiteValue] = []

    package init() {}

    /// Stores a message's body and raw source (zlib; nil: not kept).
    package mutating func storeMessage(key: String, bodyZlib: [UInt8]?, rawZlib: [UInt8]?, size: Int64) {
        messages += [.text(key), bodyZlib.map { .blob($0) } ?? .null, rawZlib.map { .blob($0) } ?? .null, .integer(size)]
    }

    /// A new entry and its participants (position = index in `participants`).
    package mutating func addEntry(_ entry: TimelineRecords.NewEntry) {
        entries += [.text(entry.id), .text(entry.leadID), .text(entry.messageKey), .text(entry.mailboxID), .text(entry.userID),
                    .text(entry.subject), .integer(entry.date), .text(entry.direction.stored), .text(entry.dateSource.stored)]
        for (position, participant) in entry.participants.enumerated() {
            participants += [.text(entry.id), .integer(Int64(position)), .text(participant.kind.stored),
                             .text(participant.address), .text(participant.displayName)]
        }
    }

    /// The mailbox (and its user) holds the entry's email; kept as is when it already does.
    package mutating func addSource(entryID: String, mailboxID: String, userID: String, direction: MessageDirection) {
        sources += [.text(entryID), .text(mailboxID), .text(userID), .text(direction.stored)]
    }

    /// Links the entry to every open opportunity of the lead (as of the write); links already
    /// there are kept.
    package mutating func linkOpenOpportunities(entryID: String, leadID: String) {
        opportunityPairs += [.text(entryID), .text(leadID)]
    }

    /// The mailbox recorded the message at `folder`/`uid`.
    package mutating func addMailboxMessage(mailboxID: String, key: String, folder: String, uid: UInt32, now: Int64) {
        mailboxMessages += [.text(mailboxID), .text(key), .text(folder), .integer(Int64(uid)), .integer(now)]
    }

    /// One event with no status and no count (``SyncEventRecords/insert(_:kind:mailboxID:userID:status:emailsSynced:detail:now:)``
    /// writes the same row alone).
    package mutating func addEvent(kind: SyncEventRecord.Kind, mailboxID: String, userID: String, detail: String, now: Int64) {
        events += [.text(RowID.make()), .integer(now), .text(kind.stored), .text(mailboxID), .text(userID), .text(""), .integer(0),
                   .text(detail)]
    }

    /// Writes everything gathered, one table after another (see the type's comment).
    package func write(_ db: SQLiteConnection) throws {
        try MultiRowStatement.run(db, head: "INSERT INTO messages(message_key, body_zlib, raw_zlib, size) VALUES", columns: 4,
                                  values: messages, tail: """
            ON CONFLICT(message_key) DO UPDATE SET body_zlib = coalesce(body_zlib, excluded.body_zlib),
                raw_zlib = coalesce(raw_zlib, excluded.raw_zlib)
            """)
        try MultiRowStatement.run(db, head: """
            INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, date_source) VALUES
            """, columns: 9, values: entries)
        try MultiRowStatement.run(db, head: "INSERT INTO timeline_participants VALUES", columns: 5, values: participants)
        try MultiRowStatement.run(db, head: "INSERT OR IGNORE INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES",
                                  columns: 4, values: sources)
        try MultiRowStatement.run(db, head: "WITH pairs(entry_id, lead_id) AS (VALUES", columns: 2, values: opportunityPairs, tail: """
            ) INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id)
            SELECT pairs.entry_id, o.id FROM pairs JOIN opportunities o ON o.lead_id = pairs.lead_id WHERE o.status = ?
            """, trailing: [.text(LeadRecords.OpportunityStatus.open.stored)])
        try MultiRowStatement.run(db, head: "INSERT INTO mailbox_messages(mailbox_id, message_key, folder, uid, recorded_at) VALUES",
                                  columns: 5, values: mailboxMessages)
        try MultiRowStatement.run(db, head: """
            INSERT INTO sync_events(id, time, kind, mailbox_id, user_id, status, emails_synced, detail) VALUES
            """, columns: 8, values: events)
    }
}
