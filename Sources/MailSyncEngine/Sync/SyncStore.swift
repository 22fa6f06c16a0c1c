import Foundation
import MailSyncMatching
import MailSyncStorage
import MailSyncTenantData

/// The sync engine's reads and writes in a company's database. Every function runs inside the
/// caller's transaction.
package enum SyncStore {
    // MARK: - Loading

    /// The mailbox and its company context, or nil when it no longer exists.
    package static func target(_ db: SQLiteConnection, mailboxID: String) throws -> SyncTarget? {
        guard let mailbox = try MailboxRecords.find(db, id: mailboxID) else { return nil }
        guard let row = try db.query(
            "SELECT id, secret, failing_since, failed_attempts, attempts_exhausted, backfill_since, usage_day, usage_bytes, usage_commands FROM mailboxes WHERE id = ?",
            [.text(mailboxID)]).first else { return nil }
        let r = RowReader(row, table: "mailboxes")
        let settings = try SettingsRecords.read(db)
        let users = try db.query("SELECT email FROM users").map { try RowReader($0, table: "users").string("email") }
        var owner = [mailbox.emailAddress, mailbox.username]
        if let email = try db.scalar("SELECT email FROM users WHERE id = ?", [.text(mailbox.userId)])?.string { owner.append(email) }
        let cursors = try cursors(db, mailboxID: mailboxID)
        return SyncTarget(
            mailbox: mailbox, sealedSecret: try r.optionalBytes("secret"),
            retry: RetryState(
                failingSince: try r.optionalInt64("failing_since"), failedAttempts: try r.integer("failed_attempts"),
                exhausted: try r.bool("attempts_exhausted")),
            backfillSince: try r.optionalInt64("backfill_since"),
            directory: CompanyDirectory(
                ownerAddresses: owner, userAddresses: users, domains: settings.emailDomains,
                preventInternalEmailSync: settings.preventInternalEmailSync),
            calendar: CompanyCalendar(identifier: settings.timeZone), cursors: cursors,
            usage: ProviderBudget.Usage(
                day: try r.string("usage_day"), bytes: try r.int64("usage_bytes"), commands: try r.int64("usage_commands")))
    }

    /// The mailbox's folder cursors by folder name.
    package static func cursors(_ db: SQLiteConnection, mailboxID: String) throws -> [String: FolderCursor] {
        var cursors: [String: FolderCursor] = [:]
        for cursor in try db.query("SELECT folder, uid_validity, highest_uid FROM folder_cursors WHERE mailbox_id = ?", [.text(mailboxID)]) {
            let r = RowReader(cursor, table: "folder_cursors")
            cursors[try r.string("folder")] = FolderCursor(
                uidValidity: try r.integer("uid_validity"), highestUID: try r.integer("highest_uid"))
        }
        return cursors
    }

    /// What the sync must know before fetching bodies: the leads behind `addresses`, their open
    /// opportunities, which of `keys` this mailbox already recorded, and the user's count today.
    package struct Lookup: Sendable {
        var leadsByAddress: [String: [String]] = [:]
        var openOpportunities: [String: [String]] = [:]
        var alreadyRecorded: Set<String> = []
        var recordedToday = 0
    }

    package static func lookup(
        _ db: SQLiteConnection, mailboxID: String, userID: String, day: String, addresses: [String], keys: [String]
    ) throws -> Lookup {
        var lookup = Lookup()
        if !addresses.isEmpty {
            for row in try db.query(
                "SELECT address, lead_id FROM lead_addresses WHERE address IN (SELECT value FROM json_each(?))",
                [.text(json(addresses))]) {
                let r = RowReader(row, table: "lead_addresses")
                lookup.leadsByAddress[try r.string("address"), default: []].append(try r.string("lead_id"))
            }
        }
        let leads = Set(lookup.leadsByAddress.values.joined())
        if !leads.isEmpty {
            for row in try db.query("""
                SELECT lead_id, id FROM opportunities WHERE status = ? AND lead_id IN (SELECT value FROM json_each(?)) ORDER BY id
                """, [.text(LeadRecords.OpportunityStatus.open.stored), .text(json(Array(leads)))]) {
                let r = RowReader(row, table: "opportunities")
                lookup.openOpportunities[try r.string("lead_id"), default: []].append(try r.string("id"))
            }
        }
        if !keys.isEmpty {
            lookup.alreadyRecorded = Set(try db.query(
                "SELECT message_key FROM mailbox_messages WHERE mailbox_id = ? AND message_key IN (SELECT value FROM json_each(?))",
                [.text(mailboxID), .text(json(keys))]).map { try RowReader($0, table: "mailbox_messages").string("message_key") })
        }
        lookup.recordedToday = try recordedToday(db, userID: userID, day: day)
        return lookup
    }

    package static func recordedToday(_ db: SQLiteConnection, userID: String, day: String) throws -> Int {
        Int(try db.scalar("SELECT recorded FROM daily_counts WHERE user_id = ? AND day = ?", [.text(userID), .text(day)])?.int64 ?? 0)
    }

    // MARK: - Recording a batch

    /// One email to put on its leads' timelines.
    package struct Mail: Sendable {
        var key: String
        var subject: String
        /// The timeline's date (µs) and where it comes from (``TimelineDate``).
        var date: TimelineDate
        /// When the server received it (INTERNALDATE, µs; the sync's time without one): the
        /// sync lag metric's arrival.
        var receivedAt: Int64
        var direction: MessageDirection
        var participants: [MailParticipant]
        var leadIDs: [String]
        var size: Int64
        var bodyText: [UInt8]?
        var raw: [UInt8]?
    }

    /// A message of the batch in UID order: recorded, or passed over (no lead, in-house,
    /// unmatchable).
    package enum Item: Sendable {
        case skip(uid: UInt32)
        case record(uid: UInt32, Mail)

        var uid: UInt32 {
            switch self {
            case .skip(let uid), .record(let uid, _): uid
            }
        }
    }

    package struct BatchResult: Sendable {
        var recorded = 0
        /// The recorded mails' dates (INTERNALDATE, µs), for the sync lag metric.
        var recordedDates: [Int64] = []
        /// The highest UID handled in order; the cursor moves here.
        var through: UInt32?
        /// The daily cap stopped the batch before its end.
        var capReached = false
        var recordedToday = 0
        /// Timeline entries added to mail this mailbox had already recorded (leads added since).
        var linked = 0
    }

    /// What a retro-match batch moves instead of the folder cursor (``RetroMatch``).
    package struct RetroProgress: Sendable {
        /// The mailbox's handled queue sequence moves here when the batch ends without reaching
        /// the cap; nil: not the batch's last folder, nothing moves.
        var handledSeq: Int64?
    }

    /// Records a batch and moves the folder's cursor, in the caller's one transaction.
    ///
    /// Items are handled in UID order. A mail this mailbox already recorded (a rescan) is not
    /// counted again; it only gains entries for leads added since. When the user's recorded count for `day` reaches `dailyCap`
    /// (0: none), the batch stops there: the cursor stays before that mail, so it is recorded on a
    /// later day. Each recorded mail is one `EMAIL_RECORDED` event.
    ///
    /// With `retro` (a retro-match batch: UIDs at or below the cursor, found by searching for new
    /// lead addresses) the folder cursor does not move; the mailbox's handled queue sequence
    /// moves to `retro.handledSeq` unless the cap stopped the batch (then the same addresses are
    /// searched again on a later day: deferred, not lost).
    package static func commit(
        _ db: SQLiteConnection, mailbox: MailboxRecord, folder: String, uidValidity: UInt32, items: [Item],
        dailyCap: Int, day: String, now: Int64, retro: RetroProgress? = nil
    ) throws -> BatchResult {
        var result = BatchResult()
        var count = try recordedToday(db, userID: mailbox.userId, day: day)
        for item in items {
            switch item {
            case .skip(let uid):
                result.through = uid
            case .record(let uid, let mail):
                let known = try db.scalar(
                    "SELECT 1 FROM mailbox_messages WHERE mailbox_id = ? AND message_key = ?", [.text(mailbox.id), .text(mail.key)])
                if known == nil {
                    if dailyCap > 0 && count >= dailyCap {
                        result.capReached = true
                        break
                    }
                    try record(db, mail, mailbox: mailbox, folder: folder, uid: uid, now: now)
                    count += 1
                    result.recorded += 1
                    result.recordedDates.append(mail.receivedAt)
                } else {
                    // Seen before (a rescan or resync): leads added since then get their entries;
                    // nothing is counted or announced again.
                    result.linked += try linkLeads(db, mail, mailbox: mailbox)
                }
                result.through = uid
            }
            if result.capReached { break }
        }
        if result.recorded > 0 {
            try db.run("""
                INSERT INTO daily_counts(user_id, day, recorded) VALUES (?, ?, ?)
                ON CONFLICT(user_id, day) DO UPDATE SET recorded = excluded.recorded
                """, [.text(mailbox.userId), .text(day), .integer(Int64(count))])
        }
        try db.run("UPDATE mailboxes SET synced_today = ? WHERE id = ?", [.integer(Int64(count)), .text(mailbox.id)])
        if let retro {
            if !result.capReached, let handled = retro.handledSeq { try RetroMatchStore.setHandled(db, mailboxID: mailbox.id, handled) }
        } else if let through = result.through {
            try setCursor(db, mailboxID: mailbox.id, folder: folder, FolderCursor(uidValidity: uidValidity, highestUID: through), now: now)
        }
        result.recordedToday = count
        return result
    }

    private static func record(_ db: SQLiteConnection, _ mail: Mail, mailbox: MailboxRecord, folder: String, uid: UInt32, now: Int64) throws {
        try db.run("""
            INSERT INTO messages(message_key, body_zlib, raw_zlib, size) VALUES (?, ?, ?, ?)
            ON CONFLICT(message_key) DO UPDATE SET body_zlib = coalesce(body_zlib, excluded.body_zlib),
                raw_zlib = coalesce(raw_zlib, excluded.raw_zlib)
            """, [.text(mail.key), mail.bodyText.map { .blob($0) } ?? .null, mail.raw.map { .blob($0) } ?? .null, .integer(mail.size)])
        _ = try linkLeads(db, mail, mailbox: mailbox)
        try db.run("INSERT INTO mailbox_messages(mailbox_id, message_key, folder, uid, recorded_at) VALUES (?, ?, ?, ?, ?)",
                   [.text(mailbox.id), .text(mail.key), .text(folder), .integer(Int64(uid)), .integer(now)])
        let leads = mail.leadIDs.count == 1 ? "lead \(mail.leadIDs[0])" : "\(mail.leadIDs.count) leads"
        try SyncEventRecords.insert(
            db, kind: .emailRecorded, mailboxID: mailbox.id, userID: mailbox.userId,
            detail: "\(mail.direction == .sent ? "sent" : "received") “\(mail.subject.prefix(120))” recorded on \(leads)", now: now)
    }

    /// Puts the mail on each of its leads' timelines (one entry per lead and message, created if
    /// missing), held by this mailbox, linked to the lead's open opportunities. Idempotent.
    /// Returns how many entries it created.
    @discardableResult
    private static func linkLeads(_ db: SQLiteConnection, _ mail: Mail, mailbox: MailboxRecord) throws -> Int {
        var created = 0
        for leadID in mail.leadIDs {
            let entryID: String
            if let existing = try db.scalar(
                "SELECT id FROM timeline_entries WHERE lead_id = ? AND message_key = ?", [.text(leadID), .text(mail.key)])?.string {
                entryID = existing
            } else {
                entryID = RowID.make()
                created += 1
                try db.run("""
                    INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, date_source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(entryID), .text(leadID), .text(mail.key), .text(mailbox.id), .text(mailbox.userId),
                          .text(mail.subject), .integer(mail.date.microseconds), .text(mail.direction.stored),
                          .text(Self.dateSource(mail.date.source).stored)])
                for (position, participant) in mail.participants.enumerated() {
                    try db.run("INSERT INTO timeline_participants VALUES (?, ?, ?, ?, ?)", [
                        .text(entryID), .integer(Int64(position)), .text(participant.kind.stored),
                        .text(participant.address), .text(participant.displayName)])
                }
            }
            try db.run("INSERT OR IGNORE INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES (?, ?, ?, ?)",
                       [.text(entryID), .text(mailbox.id), .text(mailbox.userId), .text(mail.direction.stored)])
            try db.run("""
                INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id)
                SELECT ?, id FROM opportunities WHERE lead_id = ? AND status = ?
                """, [.text(entryID), .text(leadID), .text(LeadRecords.OpportunityStatus.open.stored)])
        }
        return created
    }

    package static func dateSource(_ source: TimelineDate.Source) -> TimelineEntryRecord.DateSource {
        switch source {
        case .dateHeader: .dateHeader
        case .serverReceived: .serverReceived
        }
    }

    package static func setCursor(_ db: SQLiteConnection, mailboxID: String, folder: String, _ cursor: FolderCursor, now: Int64) throws {
        try db.run("""
            INSERT INTO folder_cursors(mailbox_id, folder, uid_validity, highest_uid, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(mailbox_id, folder) DO UPDATE SET uid_validity = excluded.uid_validity,
                highest_uid = excluded.highest_uid, updated_at = excluded.updated_at
            """, [.text(mailboxID), .text(folder), .integer(Int64(cursor.uidValidity)), .integer(Int64(cursor.highestUID)), .integer(now)])
    }

    /// A JSON array of strings for `json_each(?)` (``SQLJSON/array(_:)``).
    package static func json(_ values: [String]) -> String { SQLJSON.array(values) }
}
