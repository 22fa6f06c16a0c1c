import Foundation
import MailSyncClient
public import MailSyncEngine
import Synchronization
public import Logging
import MailSyncRPC
import MailSyncSecurity
public import MailSyncMailTransport
public import MailSyncStorage
import MailSyncTenantData

/// What every handler needs: the control database, the open tenants, the secret box, the clock.
///
/// Opened once at start (creating the data directory, the control database and the secret key
/// on first start) and closed on shutdown after the RPC server has drained.
public final class ServiceEnvironment: SyncEnvironment {
    public let dataDirectory: DataDirectory
    public let control: ControlDatabase
    public let tenants: TenantPool
    package let secrets: SecretBox
    public let clock: any WallClock
    let authenticator: APIKeyAuthenticator
    package let logger: Logger
    /// Signalled after every tenant write (`write`), for `WatchSyncEvents`.
    let syncEvents = SyncEventBus()
    /// Handlers tell the sync engine here that a company's sync schedule changed.
    public let syncRequests = SyncRequests()
    /// The sync engine's and storage's metrics (the server points them at its registry).
    public let metrics = ServiceMetrics()
    /// Continuous shipping to the remote backup target, when `remoteBackup` is set.
    public let shipping: BackupShipping?
    /// Provider presets (with the config's overrides) and the server's OAuth clients.
    let providers: ProviderTable
    /// One token refresh at a time per mailbox.
    package let oauthRefreshes = OAuthRefreshFlights()
    /// Where IMAP, SMTP and OAuth connections may go on a tenant's behalf.
    public let outbound: OutboundPolicy
    /// Smart Mail's send threads and the limits that admit sends to them.
    let smartMail: SmartMailOutbox
    /// What one company and one key may spend (``QuotaSettings``).
    let quotas: QuotaSettings
    /// Each key's request budget (tenant keys; operators are not limited).
    let requestRate: RequestRate
    /// Each company's plan, for its storage quota: read once, dropped on a plan change.
    private let plans = Mutex<[TenantID: Plan]>([:])
    /// This server as a node of a fleet (``ClusterSettings``); nil for a single node.
    let fleet: FleetNode?
    /// The fleet node's companies on its disk: admission, arrivals, departures.
    let fleetCompanies: FleetCompanies?

    /// - Parameters:
    ///   - tenantCapacity: tenant databases kept open while idle (LRU). Default 100.
    ///   - environment: process environment, for `MAILSYNC_SECRET_KEY`.
    ///   - smartMail: Smart Mail's concurrency limits and allowed relays. Default: the defaults.
    /// - Throws: `StorageError`, `SecretBoxError` or `SecretKeyMismatch` with what to fix
    ///   (permissions, a newer file, a missing or different secret key).
    public static func open(
        dataDirectory path: String, tenantCapacity: Int = 100, clock: any WallClock = SystemClock(),
        providers: ProviderTable = .defaults, outbound: OutboundPolicy = .standard,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        smartMail: SmartMailSettings = SmartMailSettings(), quotas: QuotaSettings = QuotaSettings(),
        remoteBackup: RemoteBackupTarget? = nil, cluster: ClusterSettings.Resolved? = nil, logger: Logger
    ) async throws -> ServiceEnvironment {
        let dataDirectory = DataDirectory(path)
        // Shipped files: only the shippers checkpoint, and only what they shipped.
        var options = SQLiteConnection.Options()
        if remoteBackup != nil { options.prepareForWALShipping() }
        let control = try await ControlDatabase.open(
            dataDirectory: dataDirectory, migrations: ControlMigrations.all, options: options, logger: logger)
        do {
            // The key must be the one the stored secrets were sealed with: a missing key file is
            // not replaced once the check exists, and a different key refuses the start.
            let checked = try await control.read { try SecretKeyCheckRecords.read($0) } != nil
            let key = try SecretKeyStore.load(dataDirectory: path, environment: environment, mayCreate: !checked)
            let source = environment[SecretKeyStore.environmentVariable] != nil
                ? SecretKeyStore.environmentVariable : dataDirectory.root + "/" + SecretKeyStore.fileName
            try await SecretKeyCheckRecords.verifyOrRecord(
                control: control, key: SymmetricKeyBytes(key), source: source, now: clock.now().microsecondsSinceEpoch)
            let tenants = try TenantPool(
                dataDirectory: dataDirectory, migrations: TenantMigrations.all, capacity: tenantCapacity, options: options, logger: logger)
            let fleet = cluster.map { FleetNode(settings: $0, control: control, dataDirectory: dataDirectory, logger: logger) }
            if let fleet {
                do {
                    try await fleet.start(secretKeyFingerprint: SecretKeyCheck.fingerprint(key))
                } catch {
                    await tenants.close()
                    throw error
                }
            }
            return ServiceEnvironment(
                dataDirectory: dataDirectory, control: control, tenants: tenants, secrets: SecretBox(key: key),
                clock: clock, providers: providers, outbound: outbound, smartMail: smartMail, quotas: quotas,
                remoteBackup: remoteBackup, tenantCapacity: tenantCapacity, fleet: fleet, logger: logger)
        } catch {
            await control.close()
            throw error
        }
    }

    private init(
        dataDirectory: DataDirectory, control: ControlDatabase, tenants: TenantPool, secrets: SecretBox,
        clock: any WallClock, providers: ProviderTable, outbound: OutboundPolicy, smartMail: SmartMailSettings,
        quotas: QuotaSettings, remoteBackup: RemoteBackupTarget?, tenantCapacity: Int, fleet: FleetNode?, logger: Logger
    ) {
        self.fleet = fleet
        self.quotas = quotas
        let serviceMetrics = self.metrics
        let shipping = remoteBackup.map {
            BackupShipping(target: $0, dataDirectory: dataDirectory, metrics: serviceMetrics, logger: logger, maxShippers: max(64, tenantCapacity))
        }
        self.shipping = shipping
        let companies = fleet.map {
            FleetCompanies(fleet: $0, control: control, tenants: tenants, dataDirectory: dataDirectory, shipping: shipping, logger: logger)
        }
        self.fleetCompanies = companies
        if let fleet, let companies {
            fleet.onMoveRequest { tenant, node, read in try await companies.depart(tenant, to: node, from: read) }
        }
        let rate = RequestRate(perSecond: quotas.keyRequestsPerSecond, burst: quotas.keyRequestBurst)
        self.requestRate = rate
        self.outbound = outbound
        self.smartMail = SmartMailOutbox(settings: smartMail)
        self.dataDirectory = dataDirectory
        self.control = control
        self.tenants = tenants
        self.secrets = secrets
        self.clock = clock
        self.logger = logger
        self.providers = providers
        let events = syncEvents
        let metrics = self.metrics
        self.authenticator = APIKeyAuthenticator(
            control: control, clock: clock, rate: rate, onRateRefused: { metrics.quotaRefused("rate") }, onRevocation: { events.wakeAll() },
            onUnknownKey: Self.unknownKeyHook(fleet))
    }

    private static func unknownKeyHook(_ fleet: FleetNode?) -> (@Sendable () async -> Void)? {
        guard let fleet else { return nil }
        let mirror = fleet.mirror
        return { await mirror.catchUpOnMiss() }
    }

    /// The engine's view of the metrics and the provider presets (``SyncEnvironment``).
    package var syncMetrics: any SyncMetrics { metrics }
    package var syncProviders: any SyncProviders { providers }

    public func close() async {
        await fleet?.stop()
        smartMail.shutdown()
        await tenants.close()
        await control.close()
    }

    /// Runs `body` against a company's database; storage failures become statuses that say what
    /// to do (`what` names the operation in them).
    ///
    /// In a fleet, only on the company's owner: elsewhere `moved` (with the owner's address) or
    /// `unavailable` (``FleetNode/admit(_:)``), before anything is read or written.
    func withTenant<T: Sendable>(_ tenant: TenantID, _ what: String, _ body: (TenantLease) async throws -> T) async throws -> T {
        guard let fleetCompanies else { return try await openTenant(tenant, what, body) }
        _ = try await fleetCompanies.enter(tenant)
        defer { fleetCompanies.leave(tenant) }
        return try await openTenant(tenant, what, body)
    }

    /// Whether this server is a fleet node (companies come and go).
    package var ownershipMayChange: Bool { fleet != nil }

    /// Of `tenants`, those this node serves (all, outside a fleet).
    package func served(among tenants: [TenantID]) async -> Set<TenantID> {
        guard let fleetCompanies else { return Set(tenants) }
        return await fleetCompanies.served(among: tenants)
    }

    /// Whether this node serves `tenant` (always, outside a fleet).
    package func serves(_ tenant: TenantID) async -> Bool {
        await fleetCompanies?.serves(tenant) ?? true
    }

    private func openTenant<T: Sendable>(_ tenant: TenantID, _ what: String, _ body: (TenantLease) async throws -> T) async throws -> T {
        do {
            return try await tenants.withTenant(tenant, body)
        } catch let error as StorageError where error.kind == .notFound {
            throw RPCError(.notFound, "no company '\(tenant)'")
        } catch {
            throw StorageFailure.rpcError(error, what: what)
        }
    }

    /// A write transaction in a company's database, for handlers: ``limitedWrite(_:_:_:)``, its
    /// quota refusal answered with `resource exhausted` naming the quota and what to do.
    func write<T: Sendable>(_ tenant: TenantID, _ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        do {
            return try await limitedWrite(tenant, what, body)
        } catch let refusal as StorageQuotaExceeded {
            throw QuotaRefusal.storage(refusal)
        }
    }

    /// A write transaction in a company's database; after it commits, the company's watchers
    /// (`syncEvents`) are woken.
    ///
    /// The file may not grow past the company's storage quota (``QuotaSettings``, by plan): SQLite
    /// refuses the write that would (`max_page_count`), the transaction rolls back, and the caller
    /// gets ``StorageQuotaExceeded`` (the sync engine records it as the company's to fix).
    package func limitedWrite<T: Sendable>(_ tenant: TenantID, _ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let (limit, plan) = try await storageLimit(tenant)
        // In a fleet: admitted as the owner under a lease, and committed only while that lease
        // is surely alive (a node paused past it commits nothing, ``LeaseFence``).
        let admitted = try await fleetCompanies?.enter(tenant)
        defer { if admitted != nil { fleetCompanies?.leave(tenant) } }
        let fleet = self.fleet
        let result = try await openTenant(tenant, what) { lease in
            do {
                return try await lease.write { db in
                    try db.limitSize(toBytes: limit)
                    let value = try body(db)
                    if let fleet, let admitted, !fleet.mayCommit(under: admitted) {
                        throw RPCError(.unavailable, "node \(fleet.node) lost its lease in etcd before \(what) could be saved; nothing was saved; retry")
                    }
                    return value
                }
            } catch let error as StorageError where error.isFull {
                // The quota, or the disk? SQLite says SQLITE_FULL for both; a volume with room
                // left means the quota (a transaction may need many pages past the file's size).
                guard Self.freeBytes(on: dataDirectory.root) > Self.diskFullMargin else { throw error }
                metrics.quotaRefused("storage")
                throw StorageQuotaExceeded(limit: limit, plan: plan.name ?? "\(plan.rawValue)", what: what)
            }
        }
        syncEvents.signal(tenant)
        return result
    }

    /// Free space below which a full database is blamed on the disk rather than the quota.
    static let diskFullMargin: Int64 = 64 << 20

    /// Bytes free on the volume holding `path` (0 when it cannot be read).
    static func freeBytes(on path: String) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// The company's storage quota in bytes, and its plan.
    func storageLimit(_ tenant: TenantID) async throws -> (Int64, Plan) {
        if let plan = plans.withLock({ $0[tenant] }) { return (quotas.databaseLimit(for: plan), plan) }
        let id = tenant.description
        guard let plan = try await controlRead("the company", { try CompanyRecords.find($0, id: id) }).map({ Plan($0.plan) }) else {
            throw RPCError(.notFound, "no company '\(tenant)'")
        }
        plans.withLock { $0[tenant] = plan }
        return (quotas.databaseLimit(for: plan), plan)
    }

    /// Forgets the company's cached plan (after a plan change): its next write uses the new quota.
    func planChanged(_ tenant: TenantID) {
        plans.withLock { $0[tenant] = nil }
    }

    /// A read in a company's database.
    package func read<T: Sendable>(_ tenant: TenantID, _ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withTenant(tenant, what) { try await $0.read(body) }
    }

    /// A write transaction in the control database.
    ///
    /// In a fleet the change is published to etcd before this returns, so other nodes can apply it
    /// at once (a key made here authenticates there); when etcd cannot be reached the change stays
    /// saved here and is published by the node's loop once etcd answers (logged).
    func controlWrite<T: Sendable>(_ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let result: T
        do {
            result = try await control.write(body)
        } catch {
            throw StorageFailure.rpcError(error, what: what)
        }
        if let fleet {
            do {
                try await fleet.publisher.flush()
            } catch {
                logger.warning("cluster: a control change is saved on this node but not yet in etcd; published when etcd answers", metadata: [
                    "what": "\(what)", "error": "\(error)"])
            }
        }
        return result
    }

    /// The company's mailbox sync limit (how many of its mailboxes may sync at once).
    func mailboxSyncLimit(_ tenant: TenantID) async throws -> UInt32 {
        let id = tenant.description
        return try await controlRead("the company") { try CompanyRecords.require($0, id: id) }.limits.mailboxSyncLimit
    }

    package func controlRead<T: Sendable>(_ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        do {
            return try await control.read(body)
        } catch {
            throw StorageFailure.rpcError(error, what: what)
        }
    }
}
