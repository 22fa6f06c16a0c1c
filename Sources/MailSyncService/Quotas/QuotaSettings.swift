import MailSyncClient

/// What one company, and one API key, may make the server spend.
///
/// Defaults are generous for a real CRM and small for an attacker with an ordinary key:
/// - a key's request rate: 200 calls a second sustained, bursts of 400 (`keyRequestsPerSecond`,
///   `keyRequestBurst`; 0 turns the limit off); operator keys are not limited;
/// - a company's database: 10 GiB, 1 GiB on Trial and CRM Free (`tenantDatabaseMaxMB`, and per
///   plan `planDatabaseMaxMB`); enforced by SQLite itself (`max_page_count`), so no write can pass it;
/// - leads per company: 200,000; lead addresses per company: 1,000,000 (`maxLeadsPerCompany`,
///   `maxLeadAddressesPerCompany`).
///
/// Past any of them a call is refused with `resource exhausted`, saying which quota and when to
/// retry (a rate), or what to do (storage, leads).
public struct QuotaSettings: Sendable, Equatable {
    public var keyRequestsPerSecond: Double = 200
    public var keyRequestBurst: Int = 400
    public var databaseBytes: Int64 = 10 << 30
    public var databaseBytesByPlan: [Plan: Int64] = [.trial: 1 << 30, .crmFree: 1 << 30]
    public var maxLeads: Int = 200_000
    public var maxLeadAddresses: Int = 1_000_000

    public init() {}

    /// The database size a company on `plan` may reach.
    public func databaseLimit(for plan: Plan) -> Int64 {
        databaseBytesByPlan[plan] ?? databaseBytes
    }
}
