public import MailSyncRPC
public import MailSyncStorage
import MailSyncTenantData

/// A caller as its API key establishes it: an operator, or a user of one company.
public struct Caller: CallerIdentity, Hashable {
    /// The API key's public id.
    public let keyID: String
    /// One of the schema's roles (`operator`, `administrator`, …, `junior_salesperson`).
    public let role: String
    /// The company, for tenant keys; nil for operators.
    public let tenantID: TenantID?
    /// The user the key acts for, for tenant keys.
    public let userID: String
    /// When the key expires (µs since the epoch); nil: never.
    public var expiresAt: Int64? = nil

    public static let operatorRole = "operator"

    public var isOperator: Bool { role == Self.operatorRole }
    public var logName: String { "key \(keyID) (\(role))" }
}
