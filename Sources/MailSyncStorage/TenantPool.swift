import Logging
import Synchronization

/// The open tenant databases: opened lazily, kept in a bounded least-recently-used set.
///
/// ``open(_:)`` returns a ``TenantLease``. The first open of a tenant opens its file on a new
/// ``DatabaseExecutor`` thread, checks its ``FileStamp``, refuses a newer schema and runs pending
/// migrations; concurrent opens of the same tenant wait for that one open and share it. Later opens
/// are a hash lookup. Idle tenants cost nothing: 10,000 files on disk are just files.
///
/// Capacity (default 100): after an open, while more than `capacity` tenants are open, the least
/// recently leased tenant with no lease is evicted — its queued work finishes, then its connection
/// and thread close, in the background. A tenant with a lease is never evicted; if every open
/// tenant is leased the pool goes over capacity until leases are released, and evicts then.
/// Each open tenant holds 3 file descriptors (the file, `-wal`, `-shm`) and one thread. An open of
/// a tenant still closing from an eviction waits for that close, so a file never has two
/// connections from this pool.
///
/// Offline: ``takeOffline(_:)`` waits for a tenant's leases to end, closes its file and holds
/// every new open of it (they wait, in order) until ``bringOnline(_:)``; meanwhile the caller may
/// replace its files (a restore). See `TenantPool+Offline.swift`.
///
/// Errors: opening a tenant with no file throws ``StorageError/Kind/notFound``; a foreign or
/// misplaced file throws `.wrongApplicationID` / `.wrongOwner`; a newer file `.newerSchema`; the
/// error reaches every waiter of that open and nothing stays open. After ``close()`` every call
/// throws `.closed`. All methods are safe to call from any task.
public final class TenantPool: Sendable {
    /// Counters for tests and metrics.
    public struct Statistics: Sendable, Equatable {
        /// Tenants open now.
        public var openCount = 0
        /// Tenants being opened now.
        public var openingCount = 0
        /// Evicted tenants whose connection is still closing.
        public var closingCount = 0
        /// Leases held now.
        public var leaseCount = 0
        /// Files opened (cold opens, including creates).
        public var opens = 0
        /// Leases served without opening a file (already open, or joined an open in flight).
        public var hits = 0
        /// Tenants evicted to stay within capacity.
        public var evictions = 0
        /// Tenants taken offline (``takeOffline(_:)``) and not yet back.
        public var offlineCount = 0
        /// Opens waiting for an offline tenant to come back.
        public var waitingForOnline = 0
    }

    struct OpenTenant {
        let executor: DatabaseExecutor
        var leases: Int
        var lastUse: UInt64
    }

    enum Entry {
        case opening(waiters: [CheckedContinuation<Acquired, any Error>])
        case open(OpenTenant)
    }

    /// A tenant held offline: opens wait in `waiters`; `drain` is the ``takeOffline(_:)`` call
    /// waiting for the last lease (or an open in flight) to end.
    struct Offline {
        var waiters: [CheckedContinuation<Acquired, any Error>] = []
        var drain: CheckedContinuation<Bool, Never>?
    }

    struct State {
        var entries: [TenantID: Entry] = [:]
        var offline: [TenantID: Offline] = [:]
        var closing: [TenantID: DatabaseExecutor] = [:]
        var clock: UInt64 = 0
        var isClosed = false
        var statistics = Statistics()

        mutating func tick() -> UInt64 {
            clock += 1
            return clock
        }

        /// Moves least-recently-used unleased tenants to `closing` until within `capacity`.
        /// A linear scan per eviction: the open set is small (the capacity) and this runs only when
        /// over it.
        mutating func evict(toFit capacity: Int) -> [(TenantID, DatabaseExecutor)] {
            var evicted: [(TenantID, DatabaseExecutor)] = []
            while statistics.openCount > capacity {
                var victim: (id: TenantID, tenant: OpenTenant)?
                for (id, entry) in entries {
                    guard case .open(let tenant) = entry, tenant.leases == 0 else { continue }
                    if victim == nil || tenant.lastUse < victim!.tenant.lastUse { victim = (id, tenant) }
                }
                guard let victim else { break }  // everything open is leased: go over capacity
                entries[victim.id] = nil
                closing[victim.id] = victim.tenant.executor
                statistics.openCount -= 1
                statistics.evictions += 1
                evicted.append((victim.id, victim.tenant.executor))
            }
            return evicted
        }
    }

    /// Where the files are.
    public let dataDirectory: DataDirectory
    /// The most tenants kept open while idle.
    public let capacity: Int
    /// Evicted tenants allowed to be still closing before new opens wait for one: a quarter of
    /// the capacity, at least 4. Bounds the descriptors held by closes that fall behind.
    let closingLimit: Int
    private let migrator: Migrator
    private let options: SQLiteConnection.Options
    private let logger: Logger
    let state = Mutex(State())

    /// - Parameters:
    ///   - dataDirectory: the data directory; tenant files live under `tenants/`.
    ///   - migrations: the tenant schema, numbered 1, 2, 3, … (checked: throws `.invalidMigrations`).
    ///   - capacity: tenants kept open while idle, at least 1. Default 100.
    ///   - options: connection settings (busy timeout, statement cache size).
    public init(
        dataDirectory: DataDirectory,
        migrations: [Migration],
        capacity: Int = 100,
        options: SQLiteConnection.Options = .init(),
        logger: Logger = Logger(label: "mailsync.storage")
    ) throws {
        self.dataDirectory = dataDirectory
        self.capacity = max(1, capacity)
        self.closingLimit = max(4, capacity / 4)
        self.migrator = try Migrator(migrations)
        self.options = options
        self.logger = logger
    }

    /// The newest tenant schema version this pool migrates to.
    public var schemaVersion: Int32 { migrator.latestVersion }

    public var statistics: Statistics {
        state.withLock { state in
            var statistics = state.statistics
            statistics.closingCount = state.closing.count
            statistics.offlineCount = state.offline.count
            statistics.waitingForOnline = state.offline.values.reduce(0) { $0 + $1.waiters.count }
            return statistics
        }
    }

    /// Leases an existing tenant's database, opening it if needed. Release the lease when done
    /// (or use ``withTenant(_:_:)``).
    public func open(_ tenant: TenantID) async throws -> TenantLease {
        try await acquire(tenant, creating: false)
    }

    /// Creates a new tenant's file (directory mode 0700), stamps it, runs the migrations, and leases
    /// it. Throws `.alreadyExists` if the tenant is open or its file already holds a database.
    @discardableResult
    public func create(_ tenant: TenantID) async throws -> TenantLease {
        try await acquire(tenant, creating: true)
    }

    /// Opens `tenant`, runs `body` with the lease, and releases it however `body` ends.
    public func withTenant<T: Sendable>(_ tenant: TenantID, _ body: (TenantLease) async throws -> T) async throws -> T {
        let lease = try await open(tenant)
        defer { lease.release() }
        return try await body(lease)
    }

    enum Acquired: Sendable {
        case leased(DatabaseExecutor)
        case mustOpen(previous: DatabaseExecutor?)
        /// The tenant came back online: look again.
        case retry
    }

    private func acquire(_ tenant: TenantID, creating: Bool) async throws -> TenantLease {
        var acquired = Acquired.retry
        while case .retry = acquired {
            acquired = try await acquireOnce(tenant, creating: creating)
        }
        switch acquired {
        case .leased(let executor):
            return TenantLease(pool: self, tenant: tenant, executor: executor)
        case .mustOpen(let previous):
            if let previous { await previous.waitUntilClosed() }
            return try await openFile(tenant, creating: creating)
        case .retry:
            preconditionFailure("unreachable")
        }
    }

    private func acquireOnce(_ tenant: TenantID, creating: Bool) async throws -> Acquired {
        try await withCheckedThrowingContinuation { continuation in
            let result: Result<Acquired, StorageError>? = state.withLock { state in
                if state.isClosed { return .failure(StorageError(kind: .closed, message: "the tenant pool is closed")) }
                if state.offline[tenant] != nil {
                    state.offline[tenant]!.waiters.append(continuation)
                    return nil  // resumed with .retry by bringOnline, or failed by close
                }
                switch state.entries[tenant] {
                case .open(var open):
                    if creating { return .failure(Self.alreadyExists(tenant, dataDirectory)) }
                    open.leases += 1
                    open.lastUse = state.tick()
                    state.entries[tenant] = .open(open)
                    state.statistics.hits += 1
                    state.statistics.leaseCount += 1
                    return .success(.leased(open.executor))
                case .opening(var waiters):
                    if creating { return .failure(Self.alreadyExists(tenant, dataDirectory)) }
                    waiters.append(continuation)
                    state.entries[tenant] = .opening(waiters: waiters)
                    return nil  // resumed when the open finishes
                case nil:
                    state.entries[tenant] = .opening(waiters: [])
                    state.statistics.openingCount += 1
                    // Closes run in the background; if they fall behind, the files they hold
                    // would grow past the cap. Past `closingLimit`, an open first waits for one.
                    let backlog = state.closing.count > closingLimit ? state.closing.values.first : nil
                    return .success(.mustOpen(previous: state.closing[tenant] ?? backlog))
                }
            }
            if let result { continuation.resume(with: result) }
        }
    }

    private static func alreadyExists(_ tenant: TenantID, _ directory: DataDirectory) -> StorageError {
        let path = directory.tenantDatabasePath(tenant)
        return StorageError(kind: .alreadyExists, message: "tenant \(tenant) already exists", path: path)
    }

    private func openFile(_ tenant: TenantID, creating: Bool) async throws -> TenantLease {
        let executor = DatabaseExecutor(label: "db-" + tenant.pathComponent.prefix(8))
        let directory = dataDirectory
        let path = directory.tenantDatabasePath(tenant)
        let (stamp, migrator, options) = (FileStamp.tenant(tenant), self.migrator, self.options)
        do {
            let versions = try await executor.open {
                if creating { try directory.createTenantDirectory(tenant) } else { try directory.checkTenantDirectory(tenant) }
                let opened =
                    creating
                    ? try DatabaseFile.create(path: path, stamp: stamp, migrator: migrator, options: options)
                    : try DatabaseFile.open(path: path, stamp: stamp, migrator: migrator, options: options)
                return (opened.connection, (opened.migratedFrom, opened.version))
            }
            if versions.0 != versions.1, !creating {
                logger.info("migrated tenant database", metadata: ["tenant": "\(tenant)", "from": "\(versions.0)", "to": "\(versions.1)"])
            }
        } catch {
            await executor.close()
            let (waiters, drain) = state.withLock { state -> ([CheckedContinuation<Acquired, any Error>], CheckedContinuation<Bool, Never>?) in
                state.statistics.openingCount -= 1
                let drain = state.offline[tenant]?.drain
                state.offline[tenant]?.drain = nil
                guard case .opening(let waiters) = state.entries.removeValue(forKey: tenant) else { return ([], drain) }
                return (waiters, drain)
            }
            for waiter in waiters { waiter.resume(throwing: error) }
            drain?.resume(returning: true)
            throw error
        }

        let (waiters, evicted, closed) = state.withLock {
            state -> ([CheckedContinuation<Acquired, any Error>], [(TenantID, DatabaseExecutor)], Bool) in
            state.statistics.openingCount -= 1
            guard case .opening(let waiters) = state.entries[tenant] else { preconditionFailure("tenant \(tenant) was not opening") }
            if state.isClosed {
                state.entries[tenant] = nil
                return (waiters, [], true)
            }
            state.entries[tenant] = .open(OpenTenant(executor: executor, leases: 1 + waiters.count, lastUse: state.tick()))
            state.statistics.openCount += 1
            state.statistics.opens += 1
            state.statistics.leaseCount += 1 + waiters.count
            state.statistics.hits += waiters.count
            return (waiters, state.evict(toFit: capacity), false)
        }
        if closed {
            await executor.close()
            let error = StorageError(kind: .closed, message: "the tenant pool was closed while tenant \(tenant) was opening")
            for waiter in waiters { waiter.resume(throwing: error) }
            throw error
        }
        for waiter in waiters { waiter.resume(returning: .leased(executor)) }
        closeEvicted(evicted)
        return TenantLease(pool: self, tenant: tenant, executor: executor)
    }

    /// Called by ``TenantLease/release()``.
    func release(_ tenant: TenantID) {
        let (evicted, drain) = state.withLock { state -> ([(TenantID, DatabaseExecutor)], CheckedContinuation<Bool, Never>?) in
            guard case .open(var open) = state.entries[tenant] else { return ([], nil) }
            open.leases -= 1
            state.entries[tenant] = .open(open)
            state.statistics.leaseCount -= 1
            var drain: CheckedContinuation<Bool, Never>?
            if open.leases == 0 {
                drain = state.offline[tenant]?.drain
                state.offline[tenant]?.drain = nil
            }
            return (state.evict(toFit: capacity), drain)
        }
        closeEvicted(evicted)
        drain?.resume(returning: true)
    }

    func closeEvicted(_ evicted: [(TenantID, DatabaseExecutor)]) {
        for (tenant, executor) in evicted {
            logger.debug("evicting tenant database", metadata: ["tenant": "\(tenant)"])
            executor.startClosing { [weak self] in
                self?.state.withLock { state in
                    if state.closing[tenant] === executor {
                        state.closing[tenant] = nil
                    }
                }
            }
        }
    }

    /// Closes one tenant now if it is open and not leased (its queued work finishes first), and
    /// waits until its file is closed. Returns false, closing nothing, while a lease is held.
    /// For removing a tenant's files (a failed create) or swapping them (a restore).
    @discardableResult
    public func evict(_ tenant: TenantID) async -> Bool {
        let outcome = state.withLock { state -> (Bool, DatabaseExecutor?) in
            switch state.entries[tenant] {
            case .open(let open) where open.leases == 0:
                state.entries[tenant] = nil
                state.closing[tenant] = open.executor
                state.statistics.openCount -= 1
                state.statistics.evictions += 1
                return (true, open.executor)
            case .open, .opening:
                return (false, nil)
            case nil:
                return (true, state.closing[tenant])
            }
        }
        if let executor = outcome.1 {
            closeEvicted([(tenant, executor)])
            await executor.waitUntilClosed()
        }
        return outcome.0
    }

    /// Closes every tenant: queued work finishes first. Leases still held fail with `.closed`
    /// afterwards. Opens in flight finish and then close. Idempotent.
    public func close() async {
        let (executors, offline) = state.withLock { state -> ([DatabaseExecutor], [Offline]) in
            state.isClosed = true
            let offline = Array(state.offline.values)
            state.offline = [:]
            var executors = Array(state.closing.values)
            for (id, entry) in state.entries {
                if case .open(let open) = entry {
                    executors.append(open.executor)
                    state.entries[id] = nil
                }
            }
            state.statistics.openCount = 0
            return (executors, offline)
        }
        for tenant in offline {
            tenant.drain?.resume(returning: true)
            for waiter in tenant.waiters {
                waiter.resume(throwing: StorageError(kind: .closed, message: "the tenant pool was closed while the tenant was offline"))
            }
        }
        for executor in executors { executor.startClosing() }
        for executor in executors { await executor.waitUntilClosed() }
    }
}
