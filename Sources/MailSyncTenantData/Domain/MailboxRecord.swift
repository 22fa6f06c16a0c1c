import MailSyncCoding

/// One row of `mailboxes` as the rest of the server sees it: never its sealed secret
/// (``MailboxRecords/sealedSecret(_:id:)`` is the one reader of that).
package struct MailboxRecord: Sendable, Hashable {
    /// Where a mailbox is in its life; only `enabled` and `error` hold a place under the company's
    /// mailbox sync limit (``MailboxRecords/syncingStatuses``).
    package enum Status: String, StoredEnum {
        /// Synced on schedule.
        case enabled
        /// Its last run failed; retried with backoff.
        case error
        /// Waiting for a place under the company's mailbox sync limit.
        case pending
        /// Stopped retrying until its credentials are updated.
        case connectionIssue = "connection_issue"
        /// Disconnected; keeps no secret.
        case disabled

        package static let storedName = "mailbox status"
    }

    package enum Provider: String, StoredEnum {
        case gmail
        case microsoft365 = "microsoft_365"
        case godaddy
        case customImap = "custom_imap"

        package static let storedName = "mail provider"
    }

    package enum AuthMethod: String, StoredEnum {
        case password
        case oauth

        package static let storedName = "authentication method"
    }

    package var id: String
    package var userId: String
    package var emailAddress: String
    package var provider: Provider
    package var authMethod: AuthMethod
    package var imap: ServerAddress
    /// Host empty when the mailbox has no outgoing server.
    package var smtp: ServerAddress
    package var username: String
    package var status: Status
    package var statusSince: Timestamp
    package var lastSyncedAt: Timestamp?
    package var syncedToday: UInt32
    package var createdAt: Timestamp
    package var deferredUntil: Timestamp?
    package var deferredReason: String
    /// Provider use on the UTC day of the last run (``MailboxRecords/addUsage(_:mailboxID:day:bytes:commands:sends:)``).
    package var downloadedBytesToday: UInt64
    package var commandsToday: UInt32
    package var sendsToday: UInt32
}

/// A mail server's host, port and connection security.
package struct ServerAddress: Sendable, Hashable {
    package enum Security: String, StoredEnum {
        /// Not given: the outgoing server of a mailbox that has none.
        case unspecified
        case none
        case starttls
        case tls

        package static let storedName = "connection security"
    }

    package var host: String
    package var port: UInt32
    package var security: Security

    package init(host: String = "", port: UInt32 = 0, security: Security = .unspecified) {
        self.host = host
        self.port = port
        self.security = security
    }
}
