import MailSyncStorage
import MailSyncTenantData

/// What the company's plan and limits say about syncing its mailboxes, read from the control
/// database before each run.
package struct CompanySyncPolicy: Sendable, Hashable {
    /// Recorded emails per user per day; 0: unlimited.
    package var dailyCap: Int
    /// The company's floor between two polls of one mailbox, in seconds.
    package var minimumPollIntervalSeconds: UInt32
    package var mailboxSyncLimit: UInt32
    /// Suspended companies do not sync.
    package var active: Bool

    /// The company's limits, the plan's cap standing in for an unset (0) daily limit.
    package static func read(_ db: SQLiteConnection, companyID: String) throws -> CompanySyncPolicy? {
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
    package func pollInterval(provider: MailboxRecord.Provider, providers: any SyncProviders, default fallback: Duration) -> Duration {
        let floor = providers.minimumPollIntervalSeconds(provider)
        let seconds = max(minimumPollIntervalSeconds, floor)
        return seconds > 0 ? .seconds(Int64(seconds)) : fallback
    }
}
