import MailSyncCoding

/// One row of the control database's `api_keys`, without its secret (only a hash is stored).
public struct APIKeyRecord: Sendable, Hashable {
    public var id: String
    /// Empty for an operator key.
    public var companyId: String
    public var role: String
    public var userId: String
    public var label: String
    public var secretPrefix: String
    public var createdAt: Timestamp
    public var expiresAt: Timestamp?
    public var lastUsedAt: Timestamp?
    public var revoked: Bool
}

/// A company's own settings row and email domains (plan and limits live in the control database).
package struct CompanySettingsRecord: Sendable, Hashable {
    package var preventInternalEmailSync: Bool
    package var timeZone: String
    package var emailDomains: [String]
}
