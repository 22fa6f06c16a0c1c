import Logging
import MailSyncClient
import MailSyncStorage
import MailSyncTenantData

/// Keeps the `mailsync_mailboxes{status}` gauge current by counting, every ``interval``, the
/// connected (not disabled) mailboxes of every active company by status.
///
/// Chosen over updating the gauge on each transition because statuses change in many places
/// (sync outcomes, handlers, billing, disabling) while the truth is in the tenants' databases:
/// a periodic count is always right within one interval and cannot drift. Its cost is one small
/// query per active company per interval (each company's database is opened through the LRU pool
/// like any call would). A company whose database cannot be read is left out of that round and
/// logged at warning level; the next round tries again.
struct MailboxStatusRefresher: Sendable {
    /// Default refresh interval. 60 s.
    static let defaultInterval: Duration = .seconds(60)

    let env: ServiceEnvironment
    let metrics: ServiceMetrics
    let interval: Duration
    let logger: Logger

    /// Refreshes now, then every `interval` until the task is cancelled.
    func start() -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                await refresh()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Counts once and sets the gauge.
    func refresh() async {
        let ids: [String]
        do {
            ids = try await env.control.read(CompanyRecords.activeIDs)
        } catch {
            logger.warning("metrics: cannot list companies for the mailbox status counts", metadata: ["error": "\(error)"])
            return
        }
        var totals: [MailboxStatus: Int] = [:]
        let served = await env.served(among: ids.compactMap(TenantID.init(validating:)))
        for id in ids {
            if Task.isCancelled { return }
            guard let tenant = TenantID(validating: id), served.contains(tenant) else { continue }
            do {
                let rows = try await env.tenants.withTenant(tenant) { lease in
                    try await lease.read { db in
                        try MailboxRecords.countsByStatus(db).map { (MailboxStatus($0.key), $0.value) }
                    }
                }
                for (status, count) in rows { totals[status, default: 0] += count }
            } catch {
                logger.warning("metrics: cannot count a company's mailboxes", metadata: ["tenant": "\(tenant)", "error": "\(error)"])
            }
        }
        metrics.setMailboxes(totals)
        env.fleetCompanies?.setMailboxes(totals.values.reduce(0, +))
    }
}
