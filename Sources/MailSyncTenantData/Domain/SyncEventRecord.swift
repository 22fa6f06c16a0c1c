import MailSyncCoding

/// One row of `sync_events`: something that happened to a mailbox.
package struct SyncEventRecord: Sendable, Hashable {
    package enum Kind: Int64, StoredEnum {
        case connected = 1
        case syncStarted = 2
        case syncCompleted = 3
        case emailRecorded = 4
        case smartMailSent = 5
        case statusChanged = 6
        case error = 7
        case disabled = 8
        case deferred = 9

        package static let storedName = "sync event kind"
    }

    package var id: String
    package var time: Timestamp
    package var kind: Kind
    package var mailboxId: String
    package var userId: String
    /// The mailbox's status after the event; nil for an event that records none (stored as 0).
    package var status: MailboxRecord.Status?
    package var emailsSynced: UInt32
    package var detail: String
}
