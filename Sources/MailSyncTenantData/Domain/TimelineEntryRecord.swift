import MailSyncCoding
import MailSyncMatching

/// One timeline entry ("Life of the Lead"): one email on one lead's timeline, read with its
/// participants, opportunity links and every user whose mailbox holds it.
package struct TimelineEntryRecord: Sendable, Hashable {
    /// Where the entry's date came from.
    package enum DateSource: String, StoredEnum {
        /// Never written by this build; rows from before the column existed. Inserts must name
        /// their date source: the column's default is still version 7's 0, which is not a code.
        case unspecified
        case dateHeader = "date_header"
        case serverReceived = "server_received"
        case sent

        package static let storedName = "timeline date source"
    }

    package struct Participant: Sendable, Hashable {
        package var kind: MailParticipant.Kind
        package var address: String
        package var displayName: String
    }

    package var id: String
    package var leadId: String
    package var subject: String
    package var date: Timestamp
    package var direction: MessageDirection
    package var mailboxId: String
    package var userId: String
    package var smartMail: Bool
    package var dateSource: DateSource
    package var participants: [Participant]
    package var userIds: [String]
    package var opportunityIds: [String]
}

/// `timeline_entries.direction`, `timeline_sources.direction`: `'sent'`, `'received'`.
extension MessageDirection: StoredEnum {
    package var stored: String {
        switch self {
        case .sent: "sent"
        case .received: "received"
        }
    }
    package static let storedName = "mail direction"
}

/// `timeline_participants.kind`: `'from'`, `'to'`, `'cc'`, `'bcc'`.
extension MailParticipant.Kind: StoredEnum {
    package var stored: String {
        switch self {
        case .from: "from"
        case .to: "to"
        case .cc: "cc"
        case .bcc: "bcc"
        }
    }
    package static let storedName = "participant kind"
}
