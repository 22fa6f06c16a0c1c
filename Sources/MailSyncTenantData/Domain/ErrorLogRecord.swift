import MailSyncCoding

/// One row of `error_log`: one kind of error (server text) of one mailbox.
package struct ErrorLogRecord: Sendable, Hashable {
    /// What the error needs: the user's new credentials, a settings change, patience, an operator.
    package enum ErrorClass: String, StoredEnum {
        case authentication
        case configuration
        case temporary
        case `operator`

        package static let storedName = "error class"
    }

    package var id: String
    package var firstSeen: Timestamp
    package var lastSeen: Timestamp
    package var count: UInt32
    package var mailboxId: String
    package var userId: String
    package var emailAddress: String
    package var errorClass: ErrorClass
    package var serverText: String
    package var fixHint: String
    /// The redacted protocol lines before the failure, oldest first.
    package var exchange: [String]
}
