import MailSyncClient
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData
import MailSyncEngine

extension EventHandlers {
    /// Most events read from the database at once; a watcher behind by more reads again.
    static let watchPageSize: Int64 = 500

    /// Sync events as they are recorded, oldest first, until the caller cancels (or the deadline
    /// passes, or the server shuts down, which ends the stream normally). A key revoked or
    /// expired, a user deactivated or demoted, a company suspended end the stream within a second
    /// with the status a new call would get.
    ///
    /// Starts from the newest event at the moment of the call: history is not replayed (read it
    /// with `ListSyncEvents`). Filters and access as `ListSyncEvents`: `mailbox_id` must be one the
    /// caller may see, `kinds` known kinds, and roles without `manage_others` see only their own
    /// mailboxes' events.
    ///
    /// Each event is sent exactly once and in `seq` order: the loop takes the company's bus
    /// generation, reads what is newer than the last event sent (in pages of `watchPageSize`),
    /// then waits for the generation to move, so a write committed while reading wakes the next
    /// read. Memory stays bounded: nothing is queued per watcher beyond one page, and a slow reader
    /// holds the loop back through the response writer's flow control.
    func watchSyncEvents(_ request: WatchSyncEventsRequest, responses writer: ResponseWriter<SyncEvent>, context: ServerContext) async throws {
        let (caller, tenant) = try context.tenant()
        let filter = try await scopedFilter(mailboxID: request.mailboxId, kinds: request.kinds, caller: caller, tenant: tenant, context: context)
        let bus = env.syncEvents
        let authenticator = env.authenticator
        var checked = authenticator.revocations
        var generation = bus.generation(tenant)
        var last = try await env.read(tenant, "the sync events") { try SyncEventRecords.latestSeq($0) }
        while true {
            while true {
                let after = last
                // The newest seq is read first: every matching event up to it is then in a short
                // page, so the watcher can skip past events it does not want without re-reading them.
                let (newest, rows) = try await env.read(tenant, "the sync events") { db in
                    (try SyncEventRecords.latestSeq(db), try SyncEventRecords.list(db, filter, afterSeq: after, limit: Self.watchPageSize))
                }
                for row in rows {
                    try await writer.write(SyncEvent(row.event))
                    last = row.seq
                }
                if rows.count < Self.watchPageSize {
                    last = max(last, newest)
                    break
                }
            }
            switch await wake(bus, tenant, after: generation, expiresAt: caller.expiresAt) {
            case .stop: return  // cancelled or shutting down
            case .expired: try await authenticator.recheck(caller)  // throws once the key's time is up
            case .written: break
            }
            generation = bus.generation(tenant)
            // Access may have been taken away meanwhile (a key revoked, a user deactivated, the
            // company suspended): the stream ends with the reason, as a new call would.
            let revocations = authenticator.revocations
            if revocations != checked {
                try await authenticator.recheck(caller)
                checked = revocations
            }
        }
    }

    enum Wake { case written, expired, stop }

    /// Waits for the company's next write, or for the caller's key to expire (by the server's
    /// clock, checked then), whichever comes first.
    private func wake(_ bus: SyncEventBus, _ tenant: TenantID, after generation: UInt64, expiresAt: Int64?) async -> Wake {
        guard let expiresAt else { return await bus.wait(tenant, after: generation) ? .written : .stop }
        let left = max(0, expiresAt - env.clock.now().microsecondsSinceEpoch)
        return await withTaskGroup(of: Wake.self) { group in
            group.addTask { await bus.wait(tenant, after: generation) ? .written : .stop }
            group.addTask {
                // Wakes a little after the expiry and then every second, so a clock moved by
                // other means (tests, NTP) is noticed too.
                do { try await Task.sleep(for: .microseconds(min(left, 1_000_000) + 1000)) } catch { return .stop }
                return .expired
            }
            let first = await group.next() ?? .stop
            group.cancelAll()
            return first
        }
    }
}
