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
    let control: ControlDatabase
    let tenants: TenantPool
    let dataDirectory: DataDirectory
    let shipping: BackupShipping?
    let logger: Logger
    let epochs = Mutex<[TenantID: Int64]>([:])
    let traffic = Mutex<[TenantID: Traffic]>([:])
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
