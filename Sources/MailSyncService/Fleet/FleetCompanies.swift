import Foundation
import Logging
import MailSyncCluster
import MailSyncRPC
import MailSyncReplication
import MailSyncStorage
import MailSyncTenantData
import Synchronization

/// A fleet node's companies on its own disk: admission of each call and write (ownership, the
/// copy's epoch, draining), arrivals restored from the bucket, and departures.
///
/// - **Arrival**: when the placement names this node under an epoch its copy is not of (the
///   company was moved here, or taken over after its node died, or came back after a stay
///   elsewhere), the company's database is restored from the remote backup target to its latest
///   shipped point before anything reads it (one restore at a time per company; callers wait).
///   Mail after that point is synced again from the mail servers and recorded once; API writes
///   after it are what a failover loses (`docs/cluster.md`).
/// - **Departure** (a planned move, ``depart(_:to:from:)``): new calls for the company wait, the
///   ones in flight finish (at most `drainLimit`, default 10 s, or the move is abandoned), its
///   last writes are shipped, the placement flips to the new node with a compare-and-swap, and
///   the waiting calls are answered `moved` (clients follow).
final class FleetCompanies: Sendable {
    let fleet: FleetNode
    private let control: ControlDatabase
    private let tenants: TenantPool
    private let dataDirectory: DataDirectory
    private let shipping: BackupShipping?
    private let logger: Logger
    private let epochs = Mutex<[TenantID: Int64]>([:])
    private let traffic = Mutex<[TenantID: Traffic]>([:])
    private let arrivals = ArrivalFlights()
    /// Companies ``serves(_:)`` last found served here (the scheduler asks every 3 s).
    private let owned = Mutex<Set<TenantID>>([])
    static let drainLimit: Duration = .seconds(10)

    struct Traffic {
        var inFlight = 0
        var draining = false
    }

    init(fleet: FleetNode, control: ControlDatabase, tenants: TenantPool, dataDirectory: DataDirectory, shipping: BackupShipping?, logger: Logger) {
        self.fleet = fleet
        self.control = control
        self.tenants = tenants
        self.dataDirectory = dataDirectory
        self.shipping = shipping
        self.logger = logger
        // The node's record says how loaded it is and how far its shipping lags (every 5 s).
        fleet.repeatedly(every: .seconds(5)) { [weak self] in await self?.report() }
    }

    /// Mailboxes of the companies served here, as the status refresher last counted them.
    private let mailboxes = Mutex(0)

    func setMailboxes(_ count: Int) {
        mailboxes.withLock { $0 = count }
    }

    private func report() async {
        let lag = await shipping?.maxLag
        let seconds = shipping == nil ? nil : lag.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0
        try? await fleet.membership.report(mailboxes: mailboxes.withLock { $0 }, shippingLagSeconds: seconds)
    }

    /// Admits one call or write for `tenant` on this node and counts it in flight until
    /// ``leave(_:)``: the node owns the company, its copy is the placement's epoch (restored
    /// first if not), and the company is not leaving (a call that finds it leaving waits for the
    /// move and is then answered `moved`). Returns the lease to check before committing.
    func enter(_ tenant: TenantID) async throws -> Int64 {
        let deadline = ContinuousClock.now + Self.drainLimit + .seconds(5)
        while true {
            let admission = try await fleet.admit(tenant)
            try await ensureCopy(tenant, epoch: admission.epoch)
            let admitted = traffic.withLock { traffic -> Bool in
                if traffic[tenant]?.draining == true { return false }
                traffic[tenant, default: Traffic()].inFlight += 1
                return true
            }
            if admitted { return admission.lease }
            guard ContinuousClock.now < deadline else {
                throw RPCError(.unavailable, "company \(tenant) is being moved to another node and the move is taking long; retry shortly")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Ends what ``enter(_:)`` counted.
    func leave(_ tenant: TenantID) {
        traffic.withLock { traffic in
            traffic[tenant]?.inFlight -= 1
            if let entry = traffic[tenant], entry.inFlight <= 0, !entry.draining { traffic[tenant] = nil }
        }
    }

    /// Whether this node serves `tenant` now, its copy made ready (the scheduler asks).
    func serves(_ tenant: TenantID) async -> Bool {
        var serves = false
        if let admission = try? await fleet.admit(tenant, confirmingRedirects: false) {
            serves = (try? await ensureCopy(tenant, epoch: admission.epoch)) != nil
        }
        owned.withLock { owned in
            if serves { owned.insert(tenant) } else { owned.remove(tenant) }
        }
        return serves
    }

    /// Of `tenants`, those this node serves now, each copy made ready (arrivals restored): one
    /// etcd read of every placement, not one per company (the scheduler asks every 3 s).
    func served(among tenants: [TenantID]) async -> Set<TenantID> {
        guard fleet.membership.mayWrite, let placements = try? await fleet.placements.all() else {
            owned.withLock { $0.removeAll() }
            return []
        }
        var result: Set<TenantID> = []
        for tenant in tenants {
            guard let read = placements[tenant.description] else {
                if await serves(tenant) { result.insert(tenant) }  // unplaced: claimed if its files are here
                continue
            }
            guard read.record.node == fleet.node else { continue }
            if (try? await ensureCopy(tenant, epoch: read.record.epoch)) != nil { result.insert(tenant) }
        }
        owned.withLock { $0 = result }
        return result
    }

    /// What the node's metrics show.
    func snapshot() -> FleetSnapshot {
        let counters = fleet.counters.withLock { $0 }
        let remaining = fleet.membership.fence.remaining(at: .now)
        return FleetSnapshot(
            leaseRemainingSeconds: Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18,
            companiesOwned: owned.withLock { $0.count }, arrivals: counters.arrivals, departures: counters.departures,
            takeovers: counters.takeovers)
    }

    /// Whether this node's copy of `tenant` is the one to ship: the node owns the company and the
    /// copy is of the placement's epoch (no arrival is started from here).
    func shipsCopy(_ tenant: TenantID) async -> Bool {
        guard let admission = try? await fleet.admit(tenant, confirmingRedirects: false) else { return false }
        return epochs.withLock { $0[tenant] } == admission.epoch
    }

    /// Records that this node's copy of a company it just created or claimed is of `epoch`.
    func adopt(_ tenant: TenantID, epoch: Int64) async throws {
        try await control.write { try FleetCompanyRecords.record($0, company: tenant.description, epoch: epoch) }
        epochs.withLock { $0[tenant] = epoch }
    }

    private func ensureCopy(_ tenant: TenantID, epoch: Int64) async throws {
        if epochs.withLock({ $0[tenant] }) == epoch { return }
        let company = tenant.description
        let stored = try await control.read { try FleetCompanyRecords.epoch($0, company: company) }
        if stored == epoch || (stored == nil && epoch == 1 && FileManager.default.fileExists(atPath: dataDirectory.tenantDatabasePath(tenant))) {
            // Its own copy: created or claimed here, never owned elsewhere.
            if stored == nil { try await adopt(tenant, epoch: epoch) }
            epochs.withLock { $0[tenant] = epoch }
            return
        }
        try await arrivals.run(tenant) { [self] in
            if epochs.withLock({ $0[tenant] }) == epoch { return }
            try await arrive(tenant, epoch: epoch)
        }
    }

    /// Restores the company from the bucket to its latest shipped point, replacing whatever copy
    /// this node had.
    private func arrive(_ tenant: TenantID, epoch: Int64) async throws {
        guard let shipping else {
            throw RPCError(
                .unavailable, "company \(tenant) was given to node \(fleet.node), which has no remoteBackup to restore it from; every node of a fleet needs the same remoteBackup target")
        }
        let started = ContinuousClock.now
        let target = shipping.target
        let path = dataDirectory.tenantDatabasePath(tenant)
        let directory = (path as NSString).deletingLastPathComponent
        let fileName = (path as NSString).lastPathComponent
        await shipping.hold(tenant)
        let result: PointInTimeRestore.Result
        do {
            result = try await tenants.withTenantOffline(tenant) {
                let staging = directory + ".arriving-" + UUID().uuidString.prefix(8)
                try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                do {
                    let result = try await PointInTimeRestore(
                        store: target.store, sealer: SealedObjects(key: target.key), name: BackupShipping.tenantName(tenant)
                    ).restore(to: staging + "/" + fileName)
                    try Self.checkStamp(tenant, path: staging + "/" + fileName)
                    if FileManager.default.fileExists(atPath: directory) { try FileManager.default.removeItem(atPath: directory) }
                    try FileManager.default.moveItem(atPath: staging, toPath: directory)
                    return result
                } catch {
                    try? FileManager.default.removeItem(atPath: staging)
                    throw error
                }
            }
        } catch let error as ReplicationError where error.kind == .noBackup {
            await shipping.release(tenant)
            throw RPCError(.unavailable, "company \(tenant) was given to node \(fleet.node), but the bucket holds no shipped copy of it (\(error)); an operator must restore it")
        } catch {
            await shipping.release(tenant)
            throw RPCError(.unavailable, "node \(fleet.node) could not restore company \(tenant) from the bucket (\(error)); retry shortly")
        }
        // Opened once now, so the file is in WAL mode and its new generation ships next round.
        _ = try? await tenants.withTenant(tenant) { _ in true }
        await shipping.release(tenant)
        try await adopt(tenant, epoch: epoch)
        fleet.arrived()
        logger.notice("cluster: company arrived, restored from the bucket", metadata: [
            "company": "\(tenant)", "epoch": "\(epoch)", "generation": "\(result.generation)", "segments": "\(result.segments)",
            "as_of_ms": "\(result.restoredToMilliseconds)", "took": "\(ContinuousClock.now - started)",
        ])
    }

    private static func checkStamp(_ tenant: TenantID, path: String) throws {
        var options = SQLiteConnection.Options()
        options.walMode = false
        let db = try SQLiteConnection(path: path, mode: .open, options: options)
        defer { db.close() }
        try FileStamp.tenant(tenant).verify(db)
    }

    /// Moves a company this node owns to `node` (see the type's doc). Throws, with the move
    /// abandoned and the company served here again, when its calls do not drain in time, its
    /// last writes cannot be shipped, or its placement changed meanwhile.
    func depart(_ tenant: TenantID, to node: NodeID, from read: PlacementStore.Read) async throws {
        guard let shipping else {
            throw RPCError(.failedPrecondition, "node \(fleet.node) has no remoteBackup target; companies move through the bucket")
        }
        let started = ContinuousClock.now
        traffic.withLock { $0[tenant, default: Traffic()].draining = true }
        defer {
            traffic.withLock { traffic in
                traffic[tenant]?.draining = false
                if traffic[tenant]?.inFlight ?? 0 <= 0 { traffic[tenant] = nil }
            }
        }
        while traffic.withLock({ $0[tenant]?.inFlight ?? 0 }) > 0 {
            guard ContinuousClock.now - started < Self.drainLimit else {
                throw RPCError(.unavailable, "company \(tenant)'s calls did not finish within \(Self.drainLimit); the move was abandoned")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        try await shipping.shipNow(tenant)
        guard try await fleet.placements.move(tenant.description, from: read, to: node) != nil else {
            throw RPCError(.aborted, "company \(tenant)'s placement changed during the move; nothing was moved")
        }
        await fleet.gate.forget(tenant.description)
        epochs.withLock { $0[tenant] = nil }
        fleet.departed()
        logger.notice("cluster: company moved away", metadata: [
            "company": "\(tenant)", "to": "\(node)", "drained_and_shipped_in": "\(ContinuousClock.now - started)"])
    }
}

/// A fleet node's figures for its metrics (``ServiceMetrics/setFleet(_:)``).
struct FleetSnapshot: Sendable, Equatable {
    var leaseRemainingSeconds: Double
    var companiesOwned: Int
    var arrivals: Int
    var departures: Int
    var takeovers: Int
}

/// One arrival at a time per company; later callers wait for it.
actor ArrivalFlights {
    private var running: [TenantID: Task<Void, any Error>] = [:]

    func run(_ tenant: TenantID, _ body: @escaping @Sendable () async throws -> Void) async throws {
        if let task = running[tenant] { return try await task.value }
        let task = Task { try await body() }
        running[tenant] = task
        defer { running[tenant] = nil }
        try await task.value
    }
}
