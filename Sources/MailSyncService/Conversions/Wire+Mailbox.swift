import MailSyncClient
import MailSyncCoding
import MailSyncTenantData

// Mailboxes between the wire and the tenant data: by case, never by number (the stored numbers
// are the data layer's own). A wire value with no domain case converts to nil; the handler
// refuses it naming the field.

extension MailboxStatus {
    init(_ status: MailboxRecord.Status) {
        switch status {
        case .enabled: self = .enabled
        case .error: self = .error
        case .pending: self = .pending
        case .connectionIssue: self = .connectionIssue
        case .disabled: self = .disabled
        }
    }

    /// The status on the wire of a mailbox that may not exist (`NOT_CONFIGURED` then).
    init(_ status: MailboxRecord.Status?) {
        self = status.map(MailboxStatus.init) ?? .notConfigured
    }
}

extension MailboxRecord.Status {
    init?(_ status: MailboxStatus) {
        switch status {
        case .enabled: self = .enabled
        case .error: self = .error
        case .pending: self = .pending
        case .connectionIssue: self = .connectionIssue
        case .disabled: self = .disabled
        default: return nil
        }
    }
}

extension MailProvider {
    init(_ provider: MailboxRecord.Provider) {
        switch provider {
        case .gmail: self = .gmail
        case .microsoft365: self = .microsoft365
        case .godaddy: self = .godaddy
        case .customImap: self = .customImap
        }
    }
}

extension MailboxRecord.Provider {
    init?(_ provider: MailProvider) {
        switch provider {
        case .gmail: self = .gmail
        case .microsoft365: self = .microsoft365
        case .godaddy: self = .godaddy
        case .customImap: self = .customImap
        default: return nil
        }
    }
}

extension AuthMethod {
    init(_ method: MailboxRecord.AuthMethod) {
        switch method {
        case .password: self = .password
        case .oauth: self = .oauth
        }
    }
}

extension ConnectionSecurity {
    init(_ security: ServerAddress.Security) {
        switch security {
        case .unspecified: self = .unspecified
        case .none: self = .none
        case .starttls: self = .starttls
        case .tls: self = .tls
        }
    }
}

extension ServerAddress.Security {
    /// Nil for a value the schema does not know (validation refuses it first).
    init?(_ security: ConnectionSecurity) {
        switch security {
        case .unspecified: self = .unspecified
        case .none: self = .none
        case .starttls: self = .starttls
        case .tls: self = .tls
        default: return nil
        }
    }
}

extension ServerEndpoint {
    init(_ address: ServerAddress) {
        self.init()
        host = address.host
        port = address.port
        security = ConnectionSecurity(address.security)
    }
}

extension ServerAddress {
    /// The endpoint as stored; a security the schema does not know is stored as not given
    /// (`validate` refuses such an endpoint before anything is stored).
    init(_ endpoint: ServerEndpoint) {
        self.init(host: endpoint.host, port: endpoint.port, security: ServerAddress.Security(endpoint.security) ?? .unspecified)
    }
}

extension Mailbox {
    init(_ record: MailboxRecord) {
        self.init()
        id = record.id
        userId = record.userId
        emailAddress = record.emailAddress
        provider = MailProvider(record.provider)
        authMethod = AuthMethod(record.authMethod)
        imap = ServerEndpoint(record.imap)
        smtp = ServerEndpoint(record.smtp)
        username = record.username
        status = MailboxStatus(record.status)
        statusSince = record.statusSince
        lastSyncedAt = record.lastSyncedAt
        syncedToday = record.syncedToday
        createdAt = record.createdAt
        deferredUntil = record.deferredUntil
        deferredReason = record.deferredReason
        downloadedBytesToday = record.downloadedBytesToday
        commandsToday = record.commandsToday
        sendsToday = record.sendsToday
    }
}
