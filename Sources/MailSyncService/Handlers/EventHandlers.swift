import MailSyncClient
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// Sync events and the error log, as the Mail Sync settings page shows them.
///
/// A caller whose role may act on others (the method's `manage_others`) sees every mailbox's;
/// anyone else only the events and errors of their own mailboxes, and naming another user's
/// mailbox is `permission denied`. `WatchSyncEvents` (in `EventHandlers+Watch.swift`) follows the
/// same rules.
struct EventHandlers: MailSync.EventsHandler {
    let env: ServiceEnvironment

    /// Events newest first, filtered by mailbox and kinds.
    ///
    /// Page tokens hold a position, not an offset, so events recorded while a caller pages through
    /// neither repeat nor push rows onto the next page.
    func listSyncEvents(_ request: ListSyncEventsRequest, context: ServerContext) async throws -> ListSyncEventsResponse {
        let (caller, tenant) = try context.tenant()
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "sync-events")
        let scoped = try await scopedFilter(mailboxID: request.mailboxId, kinds: request.kinds, caller: caller, tenant: tenant, context: context)
        let rows = try await env.read(tenant, "the sync events") { db in
            try SyncEventRecords.list(db, scoped, beforeSeq: Int64(page.offset), limit: page.limitPlusOne)
        }
        var response = ListSyncEventsResponse()
        let shown = rows.prefix(page.size)
        response.events = shown.map { SyncEvent($0.event) }
        if rows.count > page.size, let last = shown.last {
            response.nextPageToken = SyncEventCursor.token(kind: page.kind, seq: last.seq)
        }
        return response
    }

    /// Error log entries, most recently seen first, optionally of one mailbox.
    func listErrorLog(_ request: ListErrorLogRequest, context: ServerContext) async throws -> ListErrorLogResponse {
        let (caller, tenant) = try context.tenant()
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "error-log")
        let mailboxID = try await scopedMailbox(request.mailboxId, tenant: tenant, context: context)
        let userID = context.method.mayActOnOthers(role: caller.role) ? nil : caller.userID
        let entries = try await env.read(tenant, "the error log") { db in
            try ErrorLogRecords.list(db, mailboxID: mailboxID, userID: userID, limit: page.limitPlusOne, offset: Int64(page.offset))
        }
        var response = ListErrorLogResponse()
        response.entries = entries.prefix(page.size).map(ErrorLogEntry.init)
        response.nextPageToken = page.nextToken(found: entries.count)
        return response
    }

    /// The events a caller may see of what a request asks for: kinds checked (each a known kind,
    /// else `invalid argument` naming it), the named mailbox checked (`not found`, or `permission
    /// denied` for another user's without `manage_others`), and only the caller's own events for
    /// roles that may not act on others. Repeated kinds are dropped (the filter holds each known
    /// kind at most once, in ascending order), so a request's size never multiplies the query's.
    func scopedFilter(
        mailboxID: String, kinds: [SyncEventKind], caller: Caller, tenant: TenantID, context: ServerContext
    ) async throws -> SyncEventRecords.Filter {
        var known: [SyncEventRecord.Kind] = []
        for (i, kind) in kinds.enumerated() {
            guard let domain = SyncEventRecord.Kind(kind) else {
                throw RPCError(.invalidArgument, "kinds[\(i)] must be a known sync event kind, got \(kind.rawValue)")
            }
            known.append(domain)
        }
        var filter = SyncEventRecords.Filter()
        filter.kinds = SyncEventRecords.distinctKinds(known)
        filter.mailboxID = try await scopedMailbox(mailboxID, tenant: tenant, context: context)
        if !context.method.mayActOnOthers(role: caller.role) { filter.userID = caller.userID }
        return filter
    }

    /// The mailbox a request names, after checking the caller may see it; nil when none is named.
    private func scopedMailbox(_ id: String, tenant: TenantID, context: ServerContext) async throws -> String? {
        guard !id.isEmpty else { return nil }
        let owner = try await env.read(tenant, "the mailbox") { try MailboxRecords.require($0, id: id).userId }
        try context.requireAccess(toUser: owner)
        return id
    }
}
