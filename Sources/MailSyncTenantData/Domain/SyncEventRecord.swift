import MailSyncCoding

/// One row of `sync_events`: something that happened to a mailbox.
package struct SyncEventRecord: Sendable, Hashable {
    package enum Kind: String, StoredEnum {
        case connected
        case syncStarted = "sync_started"
        case syncCompleted = "sync_completed"
        case emailRecorded = "email_recorded"
        case smartMailSent = "smart_mail_sent"
        case statusChanged = "status_changed"
        case error
        case disabled
        case deferred

        package static let storedName = "sync event kind"
    }

    package var id: String
    package var time: Timestamp
    package var kind: Kind
    package var mailboxId: String
    package var userId: String
    /// The mailbox's status after the event; nil for an event that records none (stored as the empty text).
    package var status: MailboxRecord.Status?
    package var emailsSynced: UInt32
    package var detail: String
}
