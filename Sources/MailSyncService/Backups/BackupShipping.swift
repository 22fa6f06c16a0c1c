import Foundation
import Logging
import MailSyncObjectStore
import MailSyncReplication
import MailSyncStorage

/// Ships the control database and every company's database to the remote backup target, all
/// the time the server runs (``RemoteBackupSettings``).
///
/// Every ``RemoteBackupTarget/shipInterval`` (1 s by default) a round looks at each database's
/// `-wal` and file marks; each one that changed since its last ship is shipped by its own
/// ``WALShipper`` (a snapshot starts each generation, then committed frames as segments). Names
/// in the store: `control` and `tenants/<company id>`. The server's connections to every file run
/// without automatic checkpoints (``SQLiteConnection/Options/prepareForWALShipping()``): the
/// shippers checkpoint, only what they shipped.
///
/// Limits and costs: at most `maxShippers` shippers live at once (each holds a thread and a
/// read connection); the least recently shipped is closed beyond that, and its next ship starts
/// a new generation (a full snapshot). A server start snapshots every database at its first
/// round. Snapshots are built in memory.
///
/// Failure: a failed ship (the store unreachable, a full disk) is logged, counted and retried the
/// next round; nothing is lost meanwhile, the lag grows, and readiness reports it degraded past
/// ``RemoteBackupTarget/maxLag``.
public actor BackupShipping {
    /// What is known of one database's shipping.
    public struct DatabaseState: Sendable, Equatable {
        public var name: String
        /// When the last ship that completed began: everything committed before it is in the store.
        public var shippedThrough: Date?
        /// Since when changes wait to be shipped (nil: none known).
        public var behindSince: Date?
        public var generation: String?
        public var lastError: String?
    }

    public nonisolated let target: RemoteBackupTarget
    let dataDirectory: DataDirectory
    let logger: Logger
    let metrics: ServiceMetrics
    let maxShippers: Int
    let clock: @Sendable () -> Date
    private let sealer: SealedObjects

    private var shippers: [String: (shipper: WALShipper, used: UInt64)] = [:]
    private var states: [String: DatabaseState] = [:]
    private var marks: [String: FileMarks] = [:]
    private var round: UInt64 = 0
    /// Rounds finished since the start (each looked at every database once).
    public private(set) var completedRounds: UInt64 = 0
    /// The last failure logged per database, and when: failures are logged once a minute at most.
    private var lastLogged: [String: (text: String, at: Date)] = [:]
    private var loop: Task<Void, Never>?
    /// Databases not shipped now (a local restore replaces the file).
    private var held: Set<String> = []
    /// Databases whose ship is under way (a round's, or ``shipNow(_:)``'s).
    private var inProgress: Set<String> = []
    /// Set by ``stop(finalShipLimit:)``: no more ships.
    private var stopped = false
    /// When retention last ran (it runs at the first round, then hourly).
    private var lastRetention: Date?
    /// How often retention runs.
    static let retentionEvery: TimeInterval = 3600
    /// In a fleet: which companies this node ships (those it owns now: a stale copy of a company
    /// that moved away must never become the bucket's newest generation). Default: all.
    private var shipsCompany: @Sendable (TenantID) async -> Bool = { _ in true }
    /// The control database's name in the store (a fleet node's own: `nodes/<node>/control`).
    private var controlStoreName = BackupShipping.controlName

    public init(
        target: RemoteBackupTarget, dataDirectory: DataDirectory, metrics: ServiceMetrics, logger: Logger,
        maxShippers: Int = 100, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.target = target
        self.dataDirectory = dataDirectory
        self.metrics = metrics
        self.logger = logger
        self.maxShippers = max(1, maxShippers)
        self.clock = clock
        self.sealer = SealedObjects(key: target.key)
    }

    /// The store name of the control database and of a company's.
    public static let controlName = "control"
    public static func tenantName(_ tenant: TenantID) -> String { "tenants/\(tenant)" }

    /// Ships only the companies `ships` says (this node owns) and the control database under
    /// `controlName`: what a fleet node needs, since every node shares the bucket. Call before
    /// ``start()``.
    public func restrict(controlName: String, ships: @escaping @Sendable (TenantID) async -> Bool) {
        controlStoreName = controlName
        shipsCompany = ships
    }

    /// Ships the company's database now, whatever the round, and throws when that fails: a
    /// company leaving this node ships its last writes before its placement changes.
    public func shipNow(_ tenant: TenantID) async throws {
        let name = Self.tenantName(tenant)
        let path = dataDirectory.tenantDatabasePath(tenant)
        // A round may be shipping it right now: wait for that ship, then look again.
        let started = clock()
        while inProgress.contains(name) {
            guard clock().timeIntervalSince(started) < 30 else { throw ReplicationError(.busy, "company \(tenant)'s shipping did not finish within 30 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
        guard let current = FileMarks(databasePath: path) else {
            throw ReplicationError(.fileSystem, "company \(tenant) has no database on this node to ship")
        }
        if current == marks[name] { return }
        guard await ship(name: name, path: path, marks: current) else {
            throw ReplicationError(.busy, "the last writes of company \(tenant) could not be shipped: \(states[name]?.lastError ?? "unknown error")")
        }
    }

    /// Starts the rounds (idempotent).
    public func start() {
        guard loop == nil else { return }
        let interval = target.shipInterval
        loop = Task { [weak self] in
            while !Task.isCancelled {
                await self?.shipRound()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Stops the rounds, ships what is left one last time, and closes every shipper.
    ///
    /// The last round may take `finalShipLimit` (default 15 s): a store that hangs must not hold
    /// a shutdown. What it could not ship stays in the `-wal` files (no checkpoint copies it
    /// away) and ships with the next start's new generation.
    public func stop(finalShipLimit: Duration = .seconds(15)) async {
        loop?.cancel()
        let running = loop
        loop = nil
        // The round in progress (perhaps waiting on the store) ends first, then the last one.
        let finished = await withinLimit(finalShipLimit, otherwise: false) {
            await running?.value
            await self.shipRound()
            return true
        }
        if !finished {
            logger.warning("backup: the last ship did not finish in time; what is left ships at the next start", metadata: [
                "limit": "\(finalShipLimit)"])
        }
        stopped = true  // a round still running ships nothing more
        for (_, entry) in shippers { await entry.shipper.close() }
        shippers.removeAll()
    }

    /// One round: ships every database whose files changed since its last ship. Returns how many
    /// were shipped.
    @discardableResult
    public func shipRound() async -> Int {
        round &+= 1
        var shipped = 0
        for (name, path, tenant) in databases() where !held.contains(name) {
            guard !stopped else { break }
            if let tenant, await !shipsCompany(tenant) { continue }
            let now = FileMarks(databasePath: path)
            guard now != nil, now != marks[name] else { continue }
            var state = states[name] ?? DatabaseState(name: name)
            if state.behindSince == nil { state.behindSince = state.shippedThrough ?? clock() }
            states[name] = state
            if await ship(name: name, path: path, marks: now!) { shipped += 1 }
        }
        metrics.setBackupLag(seconds: maxLag.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? 0)
        let now = clock()
        for state in states.values {
            metrics.setBackupLag(database: state.name, seconds: state.behindSince.map { max(0, now.timeIntervalSince($0)) } ?? 0)
        }
        await closeLeastRecentlyUsed()
        if lastRetention.map({ clock().timeIntervalSince($0) >= Self.retentionEvery }) ?? true {
            lastRetention = clock()
            await applyRetention()
        }
        completedRounds &+= 1
        return shipped
    }

    /// How far the furthest-behind database is (nil: none behind).
    public var maxLag: Duration? {
        let now = clock()
        let oldest = states.values.compactMap(\.behindSince).min()
        return oldest.map { .milliseconds(Int64(max(0, now.timeIntervalSince($0)) * 1000)) }
    }

    /// Every database's state, by name.
    public var databaseStates: [DatabaseState] { states.values.sorted { $0.name < $1.name } }

    /// Stops shipping the company's database and closes its shipper (whose read connection
    /// would hold the old file and block the checkpoint a local restore makes) until
    /// ``release(_:)``; the next ship after that starts a new generation from the new file.
    public func hold(_ tenant: TenantID) async {
        let name = Self.tenantName(tenant)
        held.insert(name)
        if let entry = shippers.removeValue(forKey: name) { await entry.shipper.close() }
        marks[name] = nil
    }

    /// Ships the company's database again from the next round (see ``hold(_:)``).
    public func release(_ tenant: TenantID) {
        held.remove(Self.tenantName(tenant))
    }

    /// Deletes the generations that fall out of ``RemoteBackupTarget/retention`` for every
    /// database shipped since the start; failures are logged and retried at the next run.
    private func applyRetention() async {
        let catalog = ReplicaCatalog(store: target.store, sealer: sealer)
        for name in states.keys.sorted() {
            do {
                let deleted = try await catalog.applyRetention(of: name, policy: target.retentionPolicy, now: clock())
                if !deleted.isEmpty {
                    logger.info("backup: retention deleted old generations", metadata: ["database": "\(name)", "objects": "\(deleted.count)"])
                }
            } catch {
                logger.warning("backup: retention failed; retried in an hour", metadata: ["database": "\(name)", "error": "\(error)"])
            }
        }
    }

    private func ship(name: String, path: String, marks observed: FileMarks) async -> Bool {
        guard inProgress.insert(name).inserted else { return false }
        defer { inProgress.remove(name) }
        let started = clock()
        do {
            let shipper = try shipper(name: name, path: path)
            let report = try await shipper.shipOnce()
            marks[name] = observed
            states[name]?.shippedThrough = started
            states[name]?.generation = report.generation
            states[name]?.lastError = nil
            lastLogged[name] = nil
            // Changed again while shipping? The next round sees new marks and ships it.
            states[name]?.behindSince = FileMarks(databasePath: path) == observed ? nil : started
            metrics.backupShipped(bytes: report.segmentBytes)
            if report.startedGeneration {
                logger.info("backup: new generation", metadata: ["database": "\(name)", "generation": "\(report.generation)"])
            }
            return true
        } catch {
            let text = "\(error)"
            states[name]?.lastError = text
            metrics.backupShipFailed()
            if let last = lastLogged[name], clock().timeIntervalSince(last.at) < 60 {
                // Failing again: counted; logged at most once a minute per database (the text
                // names a new generation each time, so it cannot be the test).
            } else {
                lastLogged[name] = (text, clock())
                logger.warning("backup: shipping failed; retried every round", metadata: ["database": "\(name)", "error": "\(text)"])
            }
            if let failure = error as? ReplicationError, failure.kind == .database || failure.kind == .fileSystem {
                // A shipper that cannot continue on this file starts over (a new generation) next round.
                if let entry = shippers.removeValue(forKey: name) { await entry.shipper.close() }
            }
            return false
        }
    }

    private func shipper(name: String, path: String) throws -> WALShipper {
        guard !stopped else { throw ReplicationError(.busy, "backup shipping has stopped") }
        if var entry = shippers[name] {
            entry.used = round
            shippers[name] = entry
            return entry.shipper
        }
        var options = WALShipperOptions()
        options.snapshotInterval = target.snapshotInterval
        let shipper = try WALShipper(databasePath: path, name: name, store: target.store, sealer: sealer, options: options, clock: clock)
        shippers[name] = (shipper, round)
        return shipper
    }

    private func closeLeastRecentlyUsed() async {
        guard shippers.count > maxShippers else { return }
        let victims = shippers.sorted { $0.value.used < $1.value.used }.prefix(shippers.count - maxShippers)
        for (name, entry) in victims {
            shippers[name] = nil
            marks[name] = nil  // its next ship is a new generation; the marks must not skip it
            await entry.shipper.close()
        }
    }

    /// The control database and every company database on disk that exists.
    private func databases() -> [(String, String, TenantID?)] {
        var list: [(String, String, TenantID?)] = [(controlStoreName, dataDirectory.controlDatabasePath, nil)]
        for tenant in (try? dataDirectory.tenantIDsOnDisk()) ?? [] {
            let path = dataDirectory.tenantDatabasePath(tenant)
            if FileManager.default.fileExists(atPath: path) { list.append((Self.tenantName(tenant), path, tenant)) }
        }
        return list
    }
}

/// A database file's and its `-wal`'s size, change time and inode: equal marks, nothing new.
struct FileMarks: Equatable {
    var database: [Int64]
    var wal: [Int64]

    init?(databasePath: String) {
        func marks(_ path: String) -> [Int64]? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return [Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec), Int64(info.st_ino)]
        }
        guard let database = marks(databasePath) else { return nil }
        self.database = database
        self.wal = marks(databasePath + "-wal") ?? []
    }
}
