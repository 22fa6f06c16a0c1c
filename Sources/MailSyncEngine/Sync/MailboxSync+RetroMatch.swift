import Foundation
import MailSyncMailTransport
import MailSyncStorage
import MailSyncTenantData

/// Retro-match: a lead added (or an address added to one) gets its past mail without a resync.
///
/// After a run's incremental pass, the mailbox takes the lead addresses queued since it last
/// looked (``RetroMatchStore``), in batches of up to ``SyncSettings/retroMatchAddressesPerSearch``,
/// and per folder synced asks the server `UID SEARCH UID 1:<cursor> SINCE <day> OR FROM "a" …`:
/// only mail at or below the folder cursor (newer mail comes through the incremental pass) and
/// within the backfill window (the later of the mailbox's backfill point and now minus
/// ``SyncSettings/backfillWindow``). What the server names goes the incremental pass's way:
/// headers, classification, one lead lookup, bodies only for mail not yet recorded, one write
/// transaction (``SyncStore/commit(_:mailbox:folder:uidValidity:items:dailyCap:day:now:retro:)``).
///
/// - Exactly once: mail this mailbox already recorded (for another lead) only gains entries for
///   its new leads, counted and announced nowhere again; new mail is recorded and counted against
///   the daily cap like any other.
/// - Progress: the mailbox's handled queue number moves in the transaction of a batch's last
///   commit (or alone, when its last folder found nothing), so a kill redoes at most one batch.
/// - Cap: when the daily cap stops a commit, the progress stays before that batch and the pass
///   ends; the batch is searched again on a later day (deferred, not lost).
/// - Bounds: at most ``SyncSettings/retroMatchSearchesPerRun`` searches per run; the rest of the
///   queue waits for the next runs. Addresses that cannot be sent safely (``IMAPAddressSearch``:
///   non-ASCII, quotes, backslashes, controls) are passed over and counted in the sync event: a
///   Resync reaches their mail.
/// - A search the server refuses (`NO`/`BAD`) ends the pass without failing the run; it is tried
///   again next run and the refusal shows in the sync event.
extension MailboxSync {
    /// What retro-match did in one run (shown in the `SYNC_COMPLETED` event).
    package struct RetroReport: Sendable, Hashable {
        /// Queued addresses searched for, and passed over as unsafe to send.
        var addresses = 0
        var unsearchable = 0
        /// `UID SEARCH` commands sent.
        var searches = 0
        /// Messages found that match a lead.
        var matched = 0
        /// Of those, newly recorded (also in ``Report/recorded``), and timeline entries added to
        /// mail this mailbox had recorded before.
        var recorded = 0
        var linked = 0
        /// Queue entries left for later runs after this one.
        var remaining = 0
        /// The server's words when it refused a search.
        var refused: String?

        var didWork: Bool { addresses + unsearchable > 0 || refused != nil }
    }

    /// One batch of queued addresses: searched together, handled through `through`.
    package struct RetroBatch: Sendable {
        var addresses: [String] = []
        var unsearchable = 0
        var through: Int64 = 0
    }

    /// Splits queue entries into at most `maxBatches` batches of up to `perSearch` distinct
    /// searchable addresses whose keys stay within ``IMAPAddressSearch/defaultMaxLength``.
    package static func retroBatches(_ entries: [RetroMatchStore.Entry], perSearch: Int, maxBatches: Int) -> [RetroBatch] {
        var batches: [RetroBatch] = []
        var current = RetroBatch()
        var length = 0
        var started = false
        for entry in entries {
            guard let key = IMAPAddressSearch.key(entry.address) else {
                current.unsearchable += 1
                current.through = entry.seq
                started = true
                continue
            }
            if current.addresses.contains(entry.address) {
                current.through = entry.seq
                continue
            }
            let added = key.utf8.count + 4
            if current.addresses.count >= perSearch || (!current.addresses.isEmpty && length + added > IMAPAddressSearch.defaultMaxLength) {
                batches.append(current)
                if batches.count >= maxBatches { return batches }
                current = RetroBatch()
                length = 0
            }
            current.addresses.append(entry.address)
            current.through = entry.seq
            length += added
            started = true
        }
        if started, batches.count < maxBatches { batches.append(current) }
        return batches
    }

    /// Runs retro-match over `folders` (each with whether it is the sent folder). See the
    /// extension's description.
    package func retroMatch(
        _ imap: IMAPConnection, folders: [(folder: IMAPFolder, isSent: Bool)], target: SyncTarget, policy: CompanySyncPolicy,
        since: Int64, tenant: TenantID, deadline: ContinuousClock.Instant, report: inout Report
    ) async throws {
        // Clamped so that no setting, however large, overflows the queue read's limit.
        let perSearch = min(max(1, settings.retroMatchAddressesPerSearch), 1_000)
        let maxBatches = min(settings.retroMatchSearchesPerRun / max(1, folders.count), 1_000_000)
        guard maxBatches > 0 else { return }
        let mailbox = target.mailbox
        let (entries, cursors) = try await env.read(tenant, "the retro-match queue") { db in
            let handled = try RetroMatchStore.handled(db, mailboxID: mailbox.id)
            return (try RetroMatchStore.pending(db, after: handled, limit: perSearch * maxBatches),
                    try SyncStore.cursors(db, mailboxID: mailbox.id))
        }
        guard !entries.isEmpty else { return }
        try await searchBatches(
            imap, Self.retroBatches(entries, perSearch: perSearch, maxBatches: maxBatches), cursors: cursors, folders: folders,
            target: target, policy: policy, since: since, tenant: tenant, deadline: deadline, report: &report)
        report.retro.remaining = try await env.read(tenant, "the retro-match queue") { db in
            try RetroMatchStore.count(db, after: try RetroMatchStore.handled(db, mailboxID: mailbox.id))
        }
    }

    /// Searches each batch in each folder and commits what matches; returns early when the cap
    /// is reached or the server refuses a search.
    private func searchBatches(
        _ imap: IMAPConnection, _ batches: [RetroBatch], cursors: [String: FolderCursor],
        folders: [(folder: IMAPFolder, isSent: Bool)], target: SyncTarget, policy: CompanySyncPolicy, since: Int64,
        tenant: TenantID, deadline: ContinuousClock.Instant, report: inout Report
    ) async throws {
        let mailbox = target.mailbox
        let sinceDate = Date(timeIntervalSince1970: Double(since) / 1e6)
        var selected: (name: String, uidValidity: UInt32)?
        for (index, batch) in batches.enumerated() {
            try Task.checkCancellation()
            if ContinuousClock.now >= deadline { break }
            // Alternating the folders' order keeps the folder the last batch ended in selected.
            let order = index % 2 == 0 ? folders : Array(folders.reversed())
            let searched = batch.addresses.isEmpty ? [] : order.filter { (cursors[$0.folder.name]?.highestUID ?? 0) > 0 }
            var carried = false
            for (position, (folder, isSent)) in searched.enumerated() {
                // The batch is already within the length bound (``retroBatches``): every address goes in.
                guard let cursor = cursors[folder.name],
                      let keys = IMAPAddressSearch.criteria(batch.addresses, maxLength: .max)?.text else { continue }
                if selected?.name != folder.name {
                    let state = try await imap.examine(folder)
                    selected = (folder.name, state.uidValidity)
                }
                // A folder whose UIDs changed meaning is read again by the next incremental pass.
                guard selected?.uidValidity == cursor.uidValidity else { continue }
                let search = await Self.search(imap, through: cursor.highestUID, since: sinceDate, keys: keys)
                let found: [UInt32]
                switch search {
                case .success(let result):
                    found = result.uids
                    report.retro.searches += result.commands
                case .failure(let error):
                    guard !error.responses.isEmpty else { throw error }
                    report.retro.searches += 1
                    report.retro.refused = String(error.serverText.prefix(300))
                    return
                }
                let isLast = position == searched.count - 1
                let size = max(1, settings.headersPerBatch)
                let chunks = stride(from: 0, to: found.count, by: size).map { Array(found[$0..<min(found.count, $0 + size)]) }
                for (chunkIndex, chunk) in chunks.enumerated() {
                    let handled = isLast && chunkIndex == chunks.count - 1 ? batch.through : nil
                    let result = try await retroCommit(
                        imap, chunk, folder: folder.name, uidValidity: cursor.uidValidity, isSent: isSent, target: target,
                        policy: policy, since: since, tenant: tenant, handled: handled, report: &report)
                    if result.capReached {
                        report.capReached = true
                        report.recordedToday = result.recordedToday
                        return
                    }
                    if handled != nil { carried = true }
                }
            }
            if !carried {
                let through = batch.through
                try await env.limitedWrite(tenant, "the retro-match progress") { db in
                    try RetroMatchStore.setHandled(db, mailboxID: mailbox.id, through)
                }
            }
            report.retro.addresses += batch.addresses.count
            report.retro.unsearchable += batch.unsearchable
        }
    }

    /// The search's UIDs and command count, or why it failed (a `NO`/`BAD` carries the responses).
    private static func search(
        _ imap: IMAPConnection, through highest: UInt32, since: Date, keys: String
    ) async -> Result<(uids: [UInt32], commands: Int), IMAPConnectionError> {
        do {
            return .success(try await imap.uidSearch(through: highest, since: since, keys: keys))
        } catch {
            return .failure(error)
        }
    }

    /// Headers, classification, lookup, bodies and one commit for UIDs retro-match found.
    private func retroCommit(
        _ imap: IMAPConnection, _ uids: [UInt32], folder: String, uidValidity: UInt32, isSent: Bool, target: SyncTarget,
        policy: CompanySyncPolicy, since: Int64, tenant: TenantID, handled: Int64?, report: inout Report
    ) async throws -> SyncStore.BatchResult {
        let headers = try await imap.fetchHeaders(uids: uids, maxCommandLength: settings.maxCommandLength)
        let planned = try await plan(headers, isSent: isSent, target: target, policy: policy, tenant: tenant)
        report.retro.matched += planned.matched
        let groups = Self.bodyGroups(planned.wanted, maxBytes: settings.maxBodyBytesPerFetch)
        let bodies = try await Self.fetchBodies(imap, groups: groups, maxCommandLength: settings.maxCommandLength)
        let items = Self.items(planned.plans, bodies: bodies, now: planned.now, backfill: since)
        let (mailbox, cap, day, now) = (target.mailbox, policy.dailyCap, planned.day, planned.now.microsecondsSinceEpoch)
        let result = try await env.limitedWrite(tenant, "the retro-matched mail") { db in
            try SyncStore.commit(db, mailbox: mailbox, folder: folder, uidValidity: uidValidity, items: items, dailyCap: cap,
                                 day: day, now: now, retro: SyncStore.RetroProgress(handledSeq: handled))
        }
        report.recorded += result.recorded
        report.retro.recorded += result.recorded
        report.retro.linked += result.linked
        report.recordedToday = result.recordedToday
        return result
    }
}
