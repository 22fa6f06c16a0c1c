import MailSyncCoding
import MailSyncMatching

/// One timeline entry ("Life of the Lead"): one email on one lead's timeline, read with its
/// participants, opportunity links and every user whose mailbox holds it.
package struct TimelineEntryRecord: Sendable, Hashable {
    /// Where the entry's date came from.
    package enum DateSource: Int64, StoredEnum {
        /// Never written by this build; rows from before the column existed (0).
        case unspecified = 0
        case dateHeader = 1
        case serverReceived = 2
        case sent = 3

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

extension MessageDirection: StoredEnum {
    package var stored: Int64 { Int64(rawValue) }
    package static let storedName = "mail direction"
}

extension MailParticipant.Kind: StoredEnum {
    package var stored: Int64 { Int64(rawValue) }
    package static let storedName = "participant kind"
}
