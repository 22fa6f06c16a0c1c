import MailSyncClient
import MailSyncStorage
import MailSyncTenantData
import MailSyncEngine

/// What the company's plan and limits say about syncing its mailboxes, read from the control
/// database before each run.
struct CompanySyncPolicy: Sendable, Hashable {
    /// Recorded emails per user per day; 0: unlimited.
    var dailyCap: Int
    /// The company's floor between two polls of one mailbox, in seconds.
    var minimumPollIntervalSeconds: UInt32
    var mailboxSyncLimit: UInt32
    /// Suspended companies do not sync.
    var active: Bool

    /// The company's limits, the plan's cap standing in for an unset (0) daily limit.
    static func read(_ db: SQLiteConnection, companyID: String) throws -> CompanySyncPolicy? {
        guard let company = try CompanyRecords.find(db, id: companyID) else { return nil }
        var cap = company.limits.syncedEmailsPerUserPerDay
        if cap == 0 {
            cap = try CompanyRecords.requirePlan(db, company.plan, field: "plan").caps.syncedEmailsPerUserPerDay
        }
        return CompanySyncPolicy(
            dailyCap: Int(cap), minimumPollIntervalSeconds: company.limits.minimumPollIntervalSeconds,
            mailboxSyncLimit: company.limits.mailboxSyncLimit, active: company.state == .active)
    }

    /// The interval before the next poll: the longer of the company's floor and the provider's
    /// (Gmail: 10 minutes, from `providers`), or `fallback` when neither sets one.
    func pollInterval(provider: MailboxRecord.Provider, providers: ProviderTable = .defaults, default fallback: Duration) -> Duration {
        let floor = providers.preset(stored: provider)?.minimumPollIntervalSeconds ?? 0
        let seconds = max(minimumPollIntervalSeconds, floor)
        return seconds > 0 ? .seconds(Int64(seconds)) : fallback
    }
}
