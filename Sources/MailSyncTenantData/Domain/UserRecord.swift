import MailSyncCoding

/// One row of `users`, with the user's active (not disabled) mailbox if they have one.
package struct UserRecord: Sendable, Hashable {
    package enum Role: Int64, StoredEnum {
        case administrator = 1
        case companyManager = 2
        case marketingManager = 3
        case salesManager = 4
        case salesperson = 5
        case juniorSalesperson = 6

        package static let storedName = "user role"
    }

    package var id: String
    package var name: String
    package var email: String
    package var role: Role
    package var active: Bool
    package var createdAt: Timestamp
    /// The active mailbox's id and status; nil when the user has none.
    package var mailbox: (id: String, status: MailboxRecord.Status)? {
        get { mailboxId.flatMap { id in mailboxStatus.map { (id, $0) } } }
        set { mailboxId = newValue?.id; mailboxStatus = newValue?.status }
    }
    package var mailboxId: String?
    package var mailboxStatus: MailboxRecord.Status?
}
