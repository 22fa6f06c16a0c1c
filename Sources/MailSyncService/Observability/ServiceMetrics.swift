public import CoreMetrics
import MailSyncClient
import NIOConcurrencyHelpers
import MailSyncEngine

/// The sync engine's and storage's metrics, through swift-metrics.
///
/// - `mailsync_sync_runs_total{outcome}`: finished runs; `ok` (synced without error), `failed`
///   (a mail-side or our own failure; its class is counted below) or `skipped` (nothing to do:
///   the company inactive, the mailbox no longer syncing, or out of retries).
/// - `mailsync_sync_errors_total{class}`: failed runs by error class (`authentication`,
///   `configuration`, `temporary`, `operator`).
/// - `mailsync_sync_runs_in_flight`: runs holding a slot now.
/// - `mailsync_sync_slot_wait_seconds`: a histogram of how long a mailbox waited past its due time
///   for a slot (by the server's clock).
/// - `mailsync_sync_run_duration_seconds{outcome}`: a histogram of run wall times, by outcome.
/// - `mailsync_sync_runs_over_budget_total`: runs stopped because their time budget ran out.
/// - `mailsync_quota_refusals_total{quota}`: calls refused by a quota: `rate` (a key's request
///   rate), `storage` (a company's database size), `leads` (leads or lead addresses per company).
///   No company label: the set of labels stays bounded.
/// - `mailsync_messages_recorded_total`: emails recorded on timelines, counted when their batch
///   commits.
/// - `mailsync_sync_lag_seconds`: a histogram of the time from a message's INTERNALDATE (its
///   arrival in the mailbox) to the commit that recorded it, by the server's clock; negative lags
///   (a server clock ahead of ours) count as 0.
/// - `mailsync_mailboxes{status}`: connected (not disabled) mailboxes by status, set by
///   ``MailboxStatusRefresher``.
/// - `mailsync_open_tenants`: company databases open now, set on each scrape.
/// - `mailsync_idle_watchers`: mailboxes watched with IMAP IDLE now (each holds one connection).
/// - `mailsync_backup_ship_lag_seconds`: how far the furthest-behind database's shipping to the
///   remote backup target is (0: everything committed is shipped), set every round.
/// - `mailsync_backup_database_lag_seconds{database}`: the same per database (`control`,
///   `tenants/<company id>`), 0 once caught up: one series per database shipped since the start
///   (the one per-company label, as operators of a backup need it).
/// - `mailsync_backup_shipped_bytes_total`: segment bytes shipped (compressed); `mailsync_backup_ship_failures_total`:
///   ships that failed (retried the next round).
/// - In a fleet (set on each scrape): `mailsync_fleet_lease_remaining_seconds` (how long the
///   node's lease fence stays open without another renewal; 0: closed, the node writes nothing),
///   `mailsync_fleet_companies_owned` (companies this node owns and serves, as its scheduler last
///   checked, every 3 s), and since the node started `mailsync_fleet_arrivals` (companies restored
///   here from the bucket), `mailsync_fleet_departures` (planned moves away) and
///   `mailsync_fleet_takeovers` (companies of dead nodes this node's takeover passes moved).
///
/// Until ``use(_:)`` is called the metrics go to swift-metrics' global factory (dropped unless the
/// process bootstrapped one), so environments made without a server (tests) need nothing.
public final class ServiceMetrics: SyncMetrics {
    public static let runsLabel = "mailsync_sync_runs_total"
    public static let errorsLabel = "mailsync_sync_errors_total"
    public static let recordedLabel = "mailsync_messages_recorded_total"
    public static let lagLabel = "mailsync_sync_lag_seconds"
    public static let mailboxesLabel = "mailsync_mailboxes"
    public static let openTenantsLabel = "mailsync_open_tenants"
    public static let inFlightLabel = "mailsync_sync_runs_in_flight"
    public static let slotWaitLabel = "mailsync_sync_slot_wait_seconds"
    public static let runDurationLabel = "mailsync_sync_run_duration_seconds"
    public static let overBudgetLabel = "mailsync_sync_runs_over_budget_total"
    public static let quotaLabel = "mailsync_quota_refusals_total"
    public static let idleWatchersLabel = "mailsync_idle_watchers"
    public static let backupLagLabel = "mailsync_backup_ship_lag_seconds"
    public static let backupDatabaseLagLabel = "mailsync_backup_database_lag_seconds"
    public static let backupBytesLabel = "mailsync_backup_shipped_bytes_total"
    public static let backupFailuresLabel = "mailsync_backup_ship_failures_total"

    private let box = NIOLockedValueBox<any MetricsFactory>(MetricsSystem.factory)

    public init() {}

    /// Sends every metric from now on to `factory`.
    public func use(_ factory: any MetricsFactory) {
        box.withLockedValue { $0 = factory }
    }

    private var factory: any MetricsFactory { box.withLockedValue { $0 } }

    /// A run took a slot after waiting `waited` µs past its due time; `inFlight` runs hold one now.
    package func runStarted(waited: Int64, inFlight: Int) {
        let factory = self.factory
        Timer(label: Self.slotWaitLabel, dimensions: [], factory: factory).recordMicroseconds(max(0, waited))
        Meter(label: Self.inFlightLabel, dimensions: [], factory: factory).set(inFlight)
    }

    /// Counts a finished run by outcome, and its error class when it failed; `inFlight` runs
    /// still hold a slot.
    package func runFinished(_ summary: SyncRunSummary, inFlight: Int = 0) {
        let factory = self.factory
        let outcome = summary.succeeded ? "ok" : summary.errorClass == nil ? "skipped" : "failed"
        Counter(label: Self.runsLabel, dimensions: [("outcome", outcome)], factory: factory).increment()
        Meter(label: Self.inFlightLabel, dimensions: [], factory: factory).set(inFlight)
        Timer(label: Self.runDurationLabel, dimensions: [("outcome", outcome)], factory: factory).recordNanoseconds(
            summary.duration.components.seconds * 1_000_000_000 + summary.duration.components.attoseconds / 1_000_000_000)
        if summary.overBudget {
            Counter(label: Self.overBudgetLabel, dimensions: [], factory: factory).increment()
        }
        if let errorClass = summary.errorClass {
            Counter(label: Self.errorsLabel, dimensions: [("class", errorClass)], factory: factory).increment()
        }
    }

    /// Counts a committed batch's recorded mail and each one's lag.
    ///
    /// - Parameters:
    ///   - arrivals: each recorded mail's INTERNALDATE, µs since the epoch.
    ///   - now: the commit's time, µs since the epoch.
    package func recorded(arrivals: [Int64], now: Int64) {
        guard !arrivals.isEmpty else { return }
        let factory = self.factory
        Counter(label: Self.recordedLabel, dimensions: [], factory: factory).increment(by: arrivals.count)
        let lag = Timer(label: Self.lagLabel, dimensions: [], factory: factory)
        for arrival in arrivals {
            lag.recordMicroseconds(max(0, now - arrival))
        }
    }

    /// Counts a call refused by `quota` (`rate`, `storage`, `leads`).
    func quotaRefused(_ quota: String) {
        Counter(label: Self.quotaLabel, dimensions: [("quota", quota)], factory: factory).increment()
    }

    /// Sets the mailboxes gauge for every known status (absent ones to 0).
    func setMailboxes(_ counts: [MailboxStatus: Int]) {
        let factory = self.factory
        for status in MailboxStatus.allKnown where status != .unspecified {
            Meter(label: Self.mailboxesLabel, dimensions: [("status", Self.label(status))], factory: factory)
                .set(counts[status] ?? 0)
        }
    }

    package func setIdleWatchers(_ count: Int) {
        Meter(label: Self.idleWatchersLabel, dimensions: [], factory: factory).set(count)
    }

    func setBackupLag(seconds: Double) {
        Recorder(label: Self.backupLagLabel, dimensions: [], aggregate: false, factory: factory).record(seconds)
    }

    func setBackupLag(database: String, seconds: Double) {
        Recorder(label: Self.backupDatabaseLagLabel, dimensions: [("database", database)], aggregate: false, factory: factory).record(seconds)
    }

    func backupShipped(bytes: Int) {
        Counter(label: Self.backupBytesLabel, dimensions: [], factory: factory).increment(by: max(0, bytes))
    }

    func backupShipFailed() {
        Counter(label: Self.backupFailuresLabel, dimensions: [], factory: factory).increment()
    }

    func setFleet(_ fleet: FleetSnapshot) {
        let factory = self.factory
        Recorder(label: "mailsync_fleet_lease_remaining_seconds", dimensions: [], aggregate: false, factory: factory).record(fleet.leaseRemainingSeconds)
        Meter(label: "mailsync_fleet_companies_owned", dimensions: [], factory: factory).set(fleet.companiesOwned)
        Meter(label: "mailsync_fleet_arrivals", dimensions: [], factory: factory).set(fleet.arrivals)
        Meter(label: "mailsync_fleet_departures", dimensions: [], factory: factory).set(fleet.departures)
        Meter(label: "mailsync_fleet_takeovers", dimensions: [], factory: factory).set(fleet.takeovers)
    }

    func setOpenTenants(_ count: Int) {
        Meter(label: Self.openTenantsLabel, dimensions: [], factory: factory).set(count)
    }

    /// `enabled`, `connection_issue`, … (the schema's name without its prefix, in lower case).
    static func label(_ status: MailboxStatus) -> String {
        (status.name ?? "MAILBOX_STATUS_\(status.rawValue)").dropFirst("MAILBOX_STATUS_".count).lowercased()
    }
}
