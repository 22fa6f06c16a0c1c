import Foundation
import MailSyncMatching
import MailSyncStorage

/// A Smart Mail's reads before sending and its one write after: the same timeline model the sync
/// engine writes (`SyncStore`), so the two never disagree about one message.
package enum SmartMailRecords {
    /// What sending needs, read in one transaction.
    package struct Plan: Sendable {
        package var mailbox: MailboxRecord
        package var sealedSecret: [UInt8]?
        /// The sender's name for the From header (the user's name; empty if unknown).
        package var senderName: String
        /// The lead's first address (its addresses are a set: the alphabetically first).
        package var leadAddress: String?
    }

    /// The caller's mailbox and the lead, checked: `not found` for a lead or opportunity that does
    /// not exist, `failed precondition` (saying what to do) for an opportunity of another lead and
    /// for a mailbox that cannot send.
    package static func plan(_ db: SQLiteConnection, userID: String, leadID: String, opportunityID: String) throws -> Plan {
        guard try LeadRecords.exists(db, id: leadID) else { throw TenantDataError.notFound("no lead '\(leadID)'") }
        if !opportunityID.isEmpty {
            guard let owner = try db.scalar("SELECT lead_id FROM opportunities WHERE id = ?", [.text(opportunityID)])?.string else {
                throw TenantDataError.notFound("no opportunity '\(opportunityID)'")
            }
            guard owner == leadID else {
                throw TenantDataError.failedPrecondition("opportunity '\(opportunityID)' belongs to another lead, not '\(leadID)'; link the mail to one of this lead's opportunities or to none")
            }
        }
        guard let mailbox = try MailboxRecords.active(db, userID: userID) else {
            throw TenantDataError.failedPrecondition("you have no connected mailbox; connect yours (CreateMailboxConnection) to send Smart Mails from it")
        }
        switch mailbox.status {
        case .enabled, .error:
            break
        case .pending:
            throw TenantDataError.failedPrecondition("your mailbox \(mailbox.emailAddress) is pending: the company is at its mailbox sync limit; ask an administrator to raise the limit or disconnect an unused mailbox")
        case .connectionIssue:
            throw TenantDataError.failedPrecondition("your mailbox \(mailbox.emailAddress) has a connection issue; update its credentials (UpdateMailboxCredentials) and try again")
        default:
            throw TenantDataError.failedPrecondition("your mailbox \(mailbox.emailAddress) cannot send (status \(String(describing: mailbox.status).uppercased())); connect it again")
        }
        guard !mailbox.smtp.host.isEmpty, mailbox.smtp.port > 0 else {
            throw TenantDataError.failedPrecondition("your mailbox \(mailbox.emailAddress) has no outgoing (SMTP) server; set it with UpdateMailboxCredentials (smtp)")
        }
        let name = try db.scalar("SELECT name FROM users WHERE id = ?", [.text(userID)])?.string ?? ""
        let address = try db.scalar(
            "SELECT address FROM lead_addresses WHERE lead_id = ? ORDER BY address LIMIT 1", [.text(leadID)])?.string
        return Plan(mailbox: mailbox, sealedSecret: try MailboxRecords.sealedSecret(db, id: mailbox.id), senderName: name, leadAddress: address)
    }

    /// A sent Smart Mail to record.
    package struct Sent: Sendable {
        package var key: String
        package var mailbox: MailboxRecord
        package var leadID: String
        /// The opportunity the request named (linked besides the lead's open ones), or empty.
        package var opportunityID: String
        package var subject: String
        package var date: Int64
        package var participants: [MailParticipant]
        /// Normalized To and Cc addresses: other leads among them get the mail on their timelines
        /// too, as the sync engine would have done.
        package var recipients: [String]
        package var bodyText: [UInt8]
        package var raw: [UInt8]
        package var size: Int64

        package init(
            key: String, mailbox: MailboxRecord, leadID: String, opportunityID: String, subject: String, date: Int64,
            participants: [MailParticipant], recipients: [String], bodyText: [UInt8], raw: [UInt8], size: Int64
        ) {
            self.key = key
            self.mailbox = mailbox
            self.leadID = leadID
            self.opportunityID = opportunityID
            self.subject = subject
            self.date = date
            self.participants = participants
            self.recipients = recipients
            self.bodyText = bodyText
            self.raw = raw
            self.size = size
        }
    }

    /// Records `sent` in the caller's one write transaction: `messages` (text and raw), one
    /// `timeline_entries` row (`smart_mail = 1`, `SENT`) with its participants and
    /// `timeline_sources` row per lead, the lead's open opportunities plus the requested one in
    /// `opportunity_links`, the mailbox's `mailbox_messages` row — under the key the sync engine
    /// computes for the same message in the Sent folder (`mid:` + Message-ID), so it is not
    /// recorded twice; folder empty and uid 0: not yet seen in a folder — and one
    /// `SMART_MAIL_SENT` event. Not counted against the plan's daily cap of synced mail.
    ///
    /// Returns the requested lead's entry id, or nil when that lead was deleted while the mail was
    /// on its way (then only other leads among the recipients get it).
    package static func record(_ db: SQLiteConnection, _ sent: Sent, now: Int64) throws -> String? {
        var leads: [String] = []
        if try LeadRecords.exists(db, id: sent.leadID) { leads.append(sent.leadID) }
        if !sent.recipients.isEmpty {
            for row in try db.query("""
                SELECT DISTINCT lead_id FROM lead_addresses WHERE address IN (SELECT value FROM json_each(?)) ORDER BY lead_id
                """, [.text(SQLJSON.array(sent.recipients))]) {
                let lead = try RowReader(row, table: "lead_addresses").string("lead_id")
                if !leads.contains(lead) { leads.append(lead) }
            }
        }
        try db.run("""
            INSERT INTO messages(message_key, body_zlib, raw_zlib, size) VALUES (?, ?, ?, ?)
            ON CONFLICT(message_key) DO UPDATE SET body_zlib = coalesce(body_zlib, excluded.body_zlib),
                raw_zlib = coalesce(raw_zlib, excluded.raw_zlib)
            """, [.text(sent.key), .blob(sent.bodyText), .blob(sent.raw), .integer(sent.size)])
        let mailbox = sent.mailbox
        let direction = MessageDirection.sent.stored
        var requestedEntry: String?
        for leadID in leads {
            let entryID: String
            if let existing = try db.scalar(
                "SELECT id FROM timeline_entries WHERE lead_id = ? AND message_key = ?", [.text(leadID), .text(sent.key)])?.string {
                entryID = existing
                try db.run("UPDATE timeline_entries SET smart_mail = 1 WHERE id = ?", [.text(entryID)])
            } else {
                entryID = RowID.make()
                try db.run("""
                    INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, smart_mail, date_source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
                    """, [.text(entryID), .text(leadID), .text(sent.key), .text(mailbox.id), .text(mailbox.userId),
                          .text(sent.subject), .integer(sent.date), .text(direction),
                          .text(TimelineEntryRecord.DateSource.sent.stored)])
                for (position, participant) in sent.participants.enumerated() {
                    try db.run("INSERT INTO timeline_participants VALUES (?, ?, ?, ?, ?)", [
                        .text(entryID), .integer(Int64(position)), .text(participant.kind.stored),
                        .text(participant.address), .text(participant.displayName)])
                }
            }
            try db.run("INSERT OR IGNORE INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES (?, ?, ?, ?)",
                       [.text(entryID), .text(mailbox.id), .text(mailbox.userId), .text(direction)])
            try db.run("""
                INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id)
                SELECT ?, id FROM opportunities WHERE lead_id = ? AND status = ?
                """, [.text(entryID), .text(leadID), .text(LeadRecords.OpportunityStatus.open.stored)])
            if leadID == sent.leadID {
                requestedEntry = entryID
                if !sent.opportunityID.isEmpty {
                    try db.run("""
                        INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id)
                        SELECT ?, id FROM opportunities WHERE id = ? AND lead_id = ?
                        """, [.text(entryID), .text(sent.opportunityID), .text(leadID)])
                }
            }
        }
        try db.run("INSERT OR IGNORE INTO mailbox_messages(mailbox_id, message_key, folder, uid, recorded_at) VALUES (?, ?, '', 0, ?)",
                   [.text(mailbox.id), .text(sent.key), .integer(now)])
        let to = sent.recipients.prefix(3).joined(separator: ", ") + (sent.recipients.count > 3 ? " and \(sent.recipients.count - 3) more" : "")
        let where_ = leads.isEmpty ? "recorded on no lead (the lead was deleted)"
            : leads.count == 1 ? "recorded on lead \(leads[0])" : "recorded on \(leads.count) leads"
        try SyncEventRecords.insert(
            db, kind: .smartMailSent, mailboxID: mailbox.id, userID: mailbox.userId, status: mailbox.status,
            detail: "Smart Mail “\(sent.subject.prefix(120))” sent to \(to); \(where_)", now: now)
        return requestedEntry
    }
}
