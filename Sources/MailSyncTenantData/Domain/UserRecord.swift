import MailSyncCoding

/// One row of `users`, with the user's active (not disabled) mailbox if they have one.
package struct UserRecord: Sendable, Hashable {
    package enum Role: String, StoredEnum {
        case administrator
        case companyManager = "company_manager"
        case marketingManager = "marketing_manager"
        case salesManager = "sales_manager"
        case salesperson
        case juniorSalesperson = "junior_salesperson"

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
