import Synchronization

/// A claim on one open tenant database: while any lease is held the tenant is not evicted.
///
/// Get one from ``TenantPool/open(_:)`` or ``TenantPool/create(_:)``; call ``release()`` when done
/// (idempotent; a lease dropped without release releases itself when deallocated, but do not rely
/// on that timing). Work runs on the tenant's ``DatabaseExecutor`` thread, one closure at a time:
/// one writer per tenant. After the pool is closed, calls throw ``StorageError/Kind/closed``.
public final class TenantLease: Sendable {
    public let tenant: TenantID
    /// The tenant's executor, for callers that want to hold it directly.
    public let executor: DatabaseExecutor
    private let pool: TenantPool
    private let released = Atomic<Bool>(false)

    init(pool: TenantPool, tenant: TenantID, executor: DatabaseExecutor) {
        self.pool = pool
        self.tenant = tenant
        self.executor = executor
    }

    deinit {
        release()
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the tenant's thread; rolls back on throw.
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await executor.write(body)
    }

    /// Runs `body` on the tenant's thread with no transaction around it.
    @discardableResult
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await executor.read(body)
    }

    /// Gives the lease back. Idempotent.
    public func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) {
            pool.release(tenant)
        }
    }
}
