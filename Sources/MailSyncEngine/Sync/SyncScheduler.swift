import Foundation
import Logging
import MailSyncStorage
import NIOConcurrencyHelpers
import MailSyncTenantData

/// Runs every syncing mailbox of every company when it is due, a bounded number at a time, shared
/// fairly between companies.
///
/// The schedule lives in each company's database (`mailboxes.next_sync_at`); this actor keeps a
/// copy in memory, read at start and reread for a company whenever its handlers say it changed
/// (``SyncRequests``). ``runDue()`` starts what is due by the injected clock and returns when those
/// runs finished: tests move their clock and call it; ``start()`` calls it in a loop for
/// production. Each mailbox runs at most once at a time; libcurl and SQLite work happens on their
/// own threads, never on the cooperative pool.
///
/// With ``SyncSettings/idleEnabled``, mailboxes that are `ENABLED` (read at start and on every
/// schedule change) or whose last run succeeded are also watched with IMAP IDLE (``IdleWatchers``); a watcher that sees new mail calls ``wake(tenant:mailboxID:)``,
/// which makes the mailbox due at once for the same run as a poll (same slots, same exactly-once
/// batches; the poll interval and provider floors are not consulted for it).
public actor SyncScheduler {
    package struct Key: Hashable, Sendable {
        let tenant: TenantID
        let mailboxID: String
    }

    private let env: any SyncEnvironment
    private let settings: SyncSettings
    private let logger: Logger
    private let runner: SyncRunner
    private var due: [Key: Int64] = [:]
    private var running: Set<Key> = []
    /// Companies whose schedule a handler changed, recorded under a lock by the handler's own
    /// thread before its call returns (not by a task that may run later): the next `startDue`
    /// sees every change made before it, so a sync asked for is never missed by a pass that
    /// starts right after the request.
    private let requested = NIOLockedValueBox<Set<TenantID>>([])
    /// The latest runs, oldest first, at most ``recentRunLimit``.
    public private(set) var recentRuns: [SyncRunSummary] = []
    /// How many summaries `recentRuns` keeps. 1,000.
    public static let recentRunLimit = 1000
    private var loop: Task<Void, Never>?
    private var tasks: [Key: Task<Void, Never>] = [:]
    private var stopped = false
    /// Mailboxes a watcher saw new mail for: due now, whatever `due` says (kept while running,
    /// so mail seen during a run gets a run after it).
    private var woken: Set<Key> = []
    private let watchers: IdleWatchers
    /// Companies whose schedule was read (served here).
    private var loaded: Set<TenantID> = []
    /// How often a fleet node looks for companies that came or left. 3 s.
    static let ownershipRecheck: Duration = .seconds(3)

    package init(env: any SyncEnvironment, settings: SyncSettings, logger: Logger) {
        self.env = env
        self.settings = settings
        self.logger = logger
        self.runner = SyncRunner(env: env, settings: settings, logger: logger)
        self.watchers = IdleWatchers(env: env, settings: settings, logger: logger)
    }

    /// Reads every active company's schedule, attaches to the handlers' requests, and (when the
    /// settings say so) starts the background loop.
    public func start() async {
        env.syncRequests.attach { [requested] tenant in
            requested.withLockedValue { _ = $0.insert(tenant) }
        }
        await watchers.attach { [weak self] tenant, mailboxID in
            await self?.wake(tenant: tenant, mailboxID: mailboxID)
        }
        await reloadAll()
        if settings.runsInBackground {
            let fleet = env.ownershipMayChange
            loop = Task { [weak self] in
                var lastRecheck = ContinuousClock.now
                while !Task.isCancelled {
                    guard let self else { return }
                    if fleet, ContinuousClock.now - lastRecheck >= Self.ownershipRecheck {
                        lastRecheck = .now
                        await self.recheckOwnership()
                    }
                    _ = await self.startDue()
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Stops the loop, cancels the runs in flight and waits for them; nothing starts afterwards.
    ///
    /// A cancelled run stops at its next batch boundary: the IMAP command it is in finishes
    /// (bounded by ``SyncSettings/commandTimeout``), what it committed stays, and its folder
    /// cursors say where the next run resumes. Nothing is logged as a failure. Without the
    /// cancellation a first sync of a large mailbox held a shutdown for minutes.
    public func stop() async {
        env.syncRequests.detach()
        stopped = true
        let loop = self.loop
        self.loop = nil
        loop?.cancel()
        await loop?.value
        await watchers.stopAll()
        let running = Array(tasks.values)
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    /// Makes the mailbox due now (an IDLE watcher saw new mail); with the background loop, starts
    /// it at once if a slot is free. A mailbox running now runs again after it. Ignored for a
    /// mailbox not on the schedule.
    public func wake(tenant: TenantID, mailboxID: String) async {
        let key = Key(tenant: tenant, mailboxID: mailboxID)
        guard !stopped, due[key] != nil else { return }
        woken.insert(key)
        if loop != nil { _ = await startDue() }
    }

    /// Mailboxes watched with IMAP IDLE now (connecting, idling, or waiting to reconnect).
    public var idleWatcherCount: Int { get async { await watchers.count } }

    /// Watchers whose connection idles now (logged in, INBOX examined, IDLE issued).
    public var idlingWatcherCount: Int { get async { await watchers.idlingCount } }

    /// Whether the mailbox is watched with IMAP IDLE now.
    public func isWatched(tenant: TenantID, mailboxID: String) async -> Bool {
        await watchers.watches(tenant: tenant, mailboxID: mailboxID)
    }

    /// Mailboxes on the schedule (running or waiting).
    public var scheduledCount: Int { due.count }

    /// Starts every mailbox due by the clock, at most ``SyncSettings/maxConcurrentSyncs`` at once
    /// (more start as runs finish), and returns when the runs it started have finished. Returns
    /// how many ran. Tests call it after moving their clock; the background loop does not wait.
    @discardableResult
    public func runDue() async -> Int {
        var count = 0
        while true {
            let started = await startDue()
            if started.isEmpty { return count }
            count += started.count
            for task in started { await task.value }
        }
    }

    /// Starts due mailboxes into the free run slots, fairly across companies (``SyncSlots``: at
    /// most ``SyncSettings/perCompanyLimit`` per company, the least busy company first, oldest due
    /// first within one), without waiting for them: a long first sync never holds up other
    /// mailboxes beyond its own slot, and a run never outlasts ``SyncSettings/runBudget``.
    private func startDue() async -> [Task<Void, Never>] {
        await reloadStale()
        guard !stopped else { return [] }
        guard running.count < settings.maxConcurrentSyncs else { return [] }
        let now = env.clock.now().microsecondsSinceEpoch
        let waiting = due.compactMap { key, at in
            (at <= now || woken.contains(key)) && !running.contains(key)
                ? SyncSlots<TenantID, String>.Due(company: key.tenant, mailbox: key.mailboxID, at: min(at, now)) : nil
        }
        var perCompany: [TenantID: Int] = [:]
        for key in running { perCompany[key.tenant, default: 0] += 1 }
        let slots = SyncSlots<TenantID, String>(maxConcurrent: settings.maxConcurrentSyncs, maxPerCompany: settings.perCompanyLimit)
        var started: [Task<Void, Never>] = []
        for item in slots.choose(from: waiting, running: perCompany) {
            let key = Key(tenant: item.company, mailboxID: item.mailbox)
            running.insert(key)
            woken.remove(key)
            env.syncMetrics.runStarted(waited: now - item.at, inFlight: running.count)
            let runner = self.runner
            let task = Task { [weak self] in
                let outcome = await runner.run(tenant: key.tenant, mailboxID: key.mailboxID)
                await self?.finish(key, outcome)
            }
            tasks[key] = task
            started.append(task)
        }
        return started
    }

    private func finish(_ key: Key, _ outcome: (next: Int64?, summary: SyncRunSummary)) async {
        running.remove(key)
        tasks[key] = nil
        due[key] = outcome.next
        if outcome.next == nil { woken.remove(key) }
        // Watched only while healthy and under the cap; decided before the run is listed, so a
        // caller that sees the run sees its watcher decision too.
        if outcome.next != nil, outcome.summary.succeeded, !outcome.summary.capReached {
            await watchers.ensure(tenant: key.tenant, mailboxID: key.mailboxID)
        } else {
            await watchers.stop(tenant: key.tenant, mailboxID: key.mailboxID)
        }
        env.syncMetrics.runFinished(outcome.summary, inFlight: running.count)
        recentRuns.append(outcome.summary)
        if recentRuns.count > Self.recentRunLimit { recentRuns.removeFirst(recentRuns.count - Self.recentRunLimit) }
        // A handler may have changed this company's schedule while the run was in flight.
        await reloadStale()
    }

    private func reloadStale() async {
        let tenants = requested.withLockedValue { pending in
            defer { pending.removeAll() }
            return pending
        }
        for tenant in tenants { await reload(tenant) }
    }

    /// Forgets a company this server no longer serves: its waiting mailboxes leave the schedule
    /// and their watchers end (runs in flight finish; their writes are refused by the owner check).
    private func drop(_ tenant: TenantID) {
        guard loaded.remove(tenant) != nil || due.keys.contains(where: { $0.tenant == tenant }) else { return }
        for key in due.keys where key.tenant == tenant && !running.contains(key) { due[key] = nil }
        woken = woken.filter { $0.tenant != tenant }
        let watchers = self.watchers
        Task { await watchers.retain(tenant: tenant, mailboxIDs: []) }
        logger.info("sync schedule: a company is no longer served here", metadata: ["tenant": "\(tenant)"])
    }

    /// In a fleet: schedules the companies that came to this node and drops those that left
    /// (every ``ownershipRecheck``).
    private func recheckOwnership() async {
        guard let ids = try? await env.control.read(CompanyRecords.activeIDs) else { return }
        let active = Set(ids.compactMap(TenantID.init(validating:)))
        let served = await env.served(among: Array(active))
        for tenant in active {
            let serves = served.contains(tenant)
            if serves, !loaded.contains(tenant) { await reload(tenant) }
            if !serves, loaded.contains(tenant) { drop(tenant) }
        }
        for tenant in loaded.subtracting(active) { drop(tenant) }
    }

    private func reloadAll() async {
        let ids: [String]
        do {
            ids = try await env.control.read(CompanyRecords.activeIDs)
        } catch {
            logger.error("sync schedule: cannot list companies", metadata: ["error": "\(error)"])
            return
        }
        for id in ids {
            guard let tenant = TenantID(validating: id) else { continue }
            await reload(tenant)
        }
    }

    /// Replaces the tenant's entries with its database's `next_sync_at` values; drops them when
    /// this server does not serve the company (in a fleet: another node owns it).
    private func reload(_ tenant: TenantID) async {
        guard await env.serves(tenant) else {
            drop(tenant)
            return
        }
        loaded.insert(tenant)
        let rows: [(String, Int64, Bool)]
        do {
            rows = try await env.tenants.withTenant(tenant) { lease in
                try await lease.read { db in
                    try MailboxRecords.scheduled(db).map { ($0.id, $0.nextSyncAt, $0.status == .enabled) }
                }
            }
        } catch {
            logger.error("sync schedule: cannot read a company's mailboxes", metadata: ["tenant": "\(tenant)", "error": "\(error)"])
            return
        }
        for key in due.keys where key.tenant == tenant && !running.contains(key) { due[key] = nil }
        for (id, next, _) in rows {
            let key = Key(tenant: tenant, mailboxID: id)
            if !running.contains(key) { due[key] = next }
        }
        woken = woken.filter { $0.tenant != tenant || due[$0] != nil }
        // Disabled, failing for good, or deleted: their watchers end.
        await watchers.retain(tenant: tenant, mailboxIDs: Set(rows.map(\.0)))
        // Healthy ones are watched without waiting for their next poll (after a restart, or a
        // new mailbox), in the background: a company with thousands must not hold the loop.
        if settings.idleEnabled {
            let healthy = rows.filter(\.2).map(\.0)
            let watchers = self.watchers
            Task { for id in healthy { await watchers.ensure(tenant: tenant, mailboxID: id) } }
        }
    }
}
