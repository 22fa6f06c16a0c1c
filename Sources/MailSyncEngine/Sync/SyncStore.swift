import Foundation
import MailSyncMatching
import MailSyncStorage
import MailSyncTenantData

/// The sync engine's reads and writes in a company's database, through the tables' owners in
/// `MailSyncTenantData` (no SQL here). Every function runs inside the caller's transaction.
package enum SyncStore {
    // MARK: - Loading

    /// The mailbox and its company context, or nil when it no longer exists.
    package static func target(_ db: SQLiteConnection, mailboxID: String) throws -> SyncTarget? {
        guard let mailbox = try MailboxRecords.find(db, id: mailboxID) else { return nil }
        guard let state = try MailboxRecords.syncState(db, id: mailboxID) else { return nil }
        let settings = try SettingsRecords.read(db)
        let users = try UserRecords.emails(db)
        var owner = [mailbox.emailAddress, mailbox.username]
        if let email = try UserRecords.email(db, id: mailbox.userId) { owner.append(email) }
        let cursors = try cursors(db, mailboxID: mailboxID)
        return SyncTarget(
            mailbox: mailbox, sealedSecret: state.sealedSecret,
            retry: RetryState(
                failingSince: state.failingSince, failedAttempts: state.failedAttempts, exhausted: state.attemptsExhausted),
            backfillSince: state.backfillSince,
            directory: CompanyDirectory(
                ownerAddresses: owner, userAddresses: users, domains: settings.emailDomains,
                preventInternalEmailSync: settings.preventInternalEmailSync),
            calendar: CompanyCalendar(identifier: settings.timeZone), cursors: cursors,
            usage: ProviderBudget.Usage(
                day: state.usageDay, bytes: state.usageBytes, commands: state.usageCommands))
    }

    /// The mailbox's folder cursors by folder name.
    package static func cursors(_ db: SQLiteConnection, mailboxID: String) throws -> [String: FolderCursor] {
        try FolderCursorRecords.cursors(db, mailboxID: mailboxID).mapValues {
            FolderCursor(uidValidity: $0.uidValidity, highestUID: $0.highestUID)
        }
    }

    /// What the sync must know before fetching bodies: the leads behind `addresses`, which of
    /// `keys` this mailbox already recorded, and the user's count today. (Open opportunities are
    /// linked inside the commit's transaction, as of the commit.)
    package struct Lookup: Sendable {
        var leadsByAddress: [String: [String]] = [:]
        var alreadyRecorded: Set<String> = []
        var recordedToday = 0
    }

    package static func lookup(
        _ db: SQLiteConnection, mailboxID: String, userID: String, day: String, addresses: [String], keys: [String]
    ) throws -> Lookup {
        var lookup = Lookup()
        lookup.leadsByAddress = try LeadRecords.leadsByAddress(db, addresses: addresses)
        lookup.alreadyRecorded = try MailboxMessageRecords.recordedKeys(db, mailboxID: mailboxID, keys: keys)
        lookup.recordedToday = try recordedToday(db, userID: userID, day: day)
        return lookup
    }

    package static func recordedToday(_ db: SQLiteConnection, userID: String, day: String) throws -> Int {
        try DailyCountRecords.recorded(db, userID: userID, day: day)
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
        // Two reads for the whole batch (what this mailbox recorded, which entries exist), then
        // the decisions in UID order in memory, then one multi-row insert per table.
        var keys: [String] = []
        var pairs: [TimelineRecords.EntryKey] = []
        for case .record(_, let mail) in items {
            keys.append(mail.key)
            for leadID in mail.leadIDs { pairs.append(TimelineRecords.EntryKey(leadID: leadID, messageKey: mail.key)) }
        }
        var recorded = try MailboxMessageRecords.recordedKeys(db, mailboxID: mailbox.id, keys: keys)
        var entries = try TimelineRecords.entryIDs(db, pairs: pairs)
        var rows = RecordedMailBatch()
        for item in items {
            switch item {
            case .skip(let uid):
                result.through = uid
            case .record(let uid, let mail):
                if !recorded.contains(mail.key) {
                    if dailyCap > 0 && count >= dailyCap {
                        result.capReached = true
                        break
                    }
                    record(mail, into: &rows, entries: &entries, mailbox: mailbox, folder: folder, uid: uid, now: now)
                    recorded.insert(mail.key)
                    count += 1
                    result.recorded += 1
                    result.recordedDates.append(mail.receivedAt)
                } else {
                    // Seen before (a rescan or resync): leads added since then get their entries;
                    // nothing is counted or announced again.
                    result.linked += linkLeads(mail, into: &rows, entries: &entries, mailbox: mailbox)
                }
                result.through = uid
            }
            if result.capReached { break }
        }
        try rows.write(db)
        if result.recorded > 0 {
            try DailyCountRecords.setRecorded(db, userID: mailbox.userId, day: day, count)
        }
        try MailboxRecords.setSyncedToday(db, id: mailbox.id, count)
        if let retro {
            if !result.capReached, let handled = retro.handledSeq { try RetroMatchStore.setHandled(db, mailboxID: mailbox.id, handled) }
        } else if let through = result.through {
            try setCursor(db, mailboxID: mailbox.id, folder: folder, FolderCursor(uidValidity: uidValidity, highestUID: through), now: now)
        }
        result.recordedToday = count
        return result
    }

    private static func record(
        _ mail: Mail, into rows: inout RecordedMailBatch, entries: inout [TimelineRecords.EntryKey: String], mailbox: MailboxRecord,
        folder: String, uid: UInt32, now: Int64
    ) {
        rows.storeMessage(key: mail.key, bodyZlib: mail.bodyText, rawZlib: mail.raw, size: mail.size)
        linkLeads(mail, into: &rows, entries: &entries, mailbox: mailbox)
        rows.addMailboxMessage(mailboxID: mailbox.id, key: mail.key, folder: folder, uid: uid, now: now)
        let leads = mail.leadIDs.count == 1 ? "lead \(mail.leadIDs[0])" : "\(mail.leadIDs.count) leads"
        rows.addEvent(
            kind: .emailRecorded, mailboxID: mailbox.id, userID: mailbox.userId,
            detail: "\(mail.direction == .sent ? "sent" : "received") “\(mail.subject.prefix(120))” recorded on \(leads)", now: now)
    }

    /// Puts the mail on each of its leads' timelines (one entry per lead and message, created if
    /// missing from `entries`, which gains it), held by this mailbox, linked to the lead's open
    /// opportunities. Idempotent. Returns how many entries it created.
    @discardableResult
    private static func linkLeads(
        _ mail: Mail, into rows: inout RecordedMailBatch, entries: inout [TimelineRecords.EntryKey: String], mailbox: MailboxRecord
    ) -> Int {
        var created = 0
        for leadID in mail.leadIDs {
            let key = TimelineRecords.EntryKey(leadID: leadID, messageKey: mail.key)
            let entryID: String
            if let existing = entries[key] {
                entryID = existing
            } else {
                entryID = RowID.make()
                entries[key] = entryID
                created += 1
                rows.addEntry(TimelineRecords.NewEntry(
                    id: entryID, leadID: leadID, messageKey: mail.key, mailboxID: mailbox.id, userID: mailbox.userId,
                    subject: mail.subject, date: mail.date.microseconds, direction: mail.direction,
                    dateSource: Self.dateSource(mail.date.source), participants: mail.participants))
            }
            rows.addSource(entryID: entryID, mailboxID: mailbox.id, userID: mailbox.userId, direction: mail.direction)
            rows.linkOpenOpportunities(entryID: entryID, leadID: leadID)
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
        try FolderCursorRecords.set(
            db, mailboxID: mailboxID, folder: folder, uidValidity: cursor.uidValidity, highestUID: cursor.highestUID, now: now)
    }

    /// A JSON array of strings for `json_each(?)` (``SQLJSON/array(_:)``).
    package static func json(_ values: [String]) -> String { SQLJSON.array(values) }
}
