import MailSyncClient
import MailSyncRPC
import MailSyncStorage

extension EventHandlers {
    /// Most events read from the database at once; a watcher behind by more reads again.
    static let watchPageSize: Int64 = 500

    /// Sync events as they are recorded, oldest first, until the caller cancels (or the deadline
    /// passes, or the server shuts down, which ends the stream normally).
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
    func watchSyncEvents(_ request: WatchSyncEventsRequest, writer: ResponseWriter<SyncEvent>, context: ServerContext) async throws {
        let (caller, tenant) = try context.tenant()
        let filter = try await scopedFilter(mailboxID: request.mailboxId, kinds: request.kinds, caller: caller, tenant: tenant, context: context)
        let bus = env.syncEvents
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
                    try await writer.write(row.event)
                    last = row.seq
                }
                if rows.count < Self.watchPageSize {
                    last = max(last, newest)
                    break
                }
            }
            guard await bus.wait(tenant, after: generation) else { return }  // cancelled or shutting down
            generation = bus.generation(tenant)
        }
    }
}
