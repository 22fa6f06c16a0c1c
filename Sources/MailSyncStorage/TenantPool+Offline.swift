extension TenantPool {
    /// Takes a tenant offline so that its files can be replaced (a restore) without anyone ever
    /// reading a half-replaced tenant.
    ///
    /// From the moment this is called, new opens of the tenant (``open(_:)``, ``create(_:)``,
    /// ``withTenant(_:_:)``) wait, in order, until ``bringOnline(_:)``. Leases already held keep
    /// working: this waits until the last one is released (and an open in flight has finished),
    /// then closes the tenant's connection and thread (queued work finishes first) and returns.
    /// When it returns no connection of this pool has the file open. A tenant that is not open
    /// (or has no file at all) is simply marked offline.
    ///
    /// Waiting opens are not cancelled with their task: they wait for ``bringOnline(_:)`` or fail
    /// with `.closed` when the pool closes. Keep the offline window short.
    ///
    /// Throws ``StorageError/Kind/offline`` if the tenant is already offline (another restore is
    /// running), `.closed` if the pool is closed (also if it closes while this waits).
    public func takeOffline(_ tenant: TenantID) async throws {
        try state.withLock { state in
            if state.isClosed { throw StorageError(kind: .closed, message: "the tenant pool is closed") }
            if state.offline[tenant] != nil {
                throw StorageError(kind: .offline, message: "tenant \(tenant) is already offline (a restore is running); try again when it ends")
            }
            state.offline[tenant] = Offline()
        }
        // Wait for the leases (and an open in flight) to end.
        while true {
            let mustWait = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let busy = state.withLock { state -> Bool in
                    switch state.entries[tenant] {
                    case .opening: break
                    case .open(let open) where open.leases > 0: break
                    default: return false
                    }
                    guard state.offline[tenant] != nil else { return false }  // the pool closed
                    // Resumed by the release of the last lease or the end of the open.
                    state.offline[tenant]!.drain = continuation
                    return true
                }
                if !busy { continuation.resume(returning: false) }
            }
            if !mustWait { break }
        }
        let (executor, gone) = state.withLock { state -> (DatabaseExecutor?, StorageError?) in
            if state.offline[tenant] == nil {
                return (nil, state.isClosed
                    ? StorageError(kind: .closed, message: "the tenant pool was closed while tenant \(tenant) was going offline")
                    : StorageError(kind: .offline, message: "tenant \(tenant) was brought back online before it went offline"))
            }
            if case .open(let open) = state.entries[tenant] {
                state.entries[tenant] = nil
                state.closing[tenant] = open.executor
                state.statistics.openCount -= 1
                return (open.executor, nil)
            }
            return (state.closing[tenant], nil)  // evicted a moment ago, or not open
        }
        if let executor {
            closeEvicted([(tenant, executor)])
            await executor.waitUntilClosed()
        }
        if let gone { throw gone }
    }

    /// Brings a tenant taken offline back: the opens waiting for it go ahead (the first one opens
    /// the file again, checking its stamp and migrating it like any cold open). A no-op for a
    /// tenant that is not offline; a ``takeOffline(_:)`` of it still waiting for leases throws
    /// `.offline`.
    public func bringOnline(_ tenant: TenantID) {
        let offline = state.withLock { state in state.offline.removeValue(forKey: tenant) }
        offline?.drain?.resume(returning: true)  // a takeOffline still draining: it throws `.offline`
        for waiter in offline?.waiters ?? [] { waiter.resume(returning: .retry) }
    }

    /// Takes `tenant` offline, runs `body`, and brings it back online however `body` ends.
    public func withTenantOffline<T: Sendable>(_ tenant: TenantID, _ body: () async throws -> T) async throws -> T {
        try await takeOffline(tenant)
        do {
            let result = try await body()
            bringOnline(tenant)
            return result
        } catch {
            bringOnline(tenant)
            throw error
        }
    }
}
