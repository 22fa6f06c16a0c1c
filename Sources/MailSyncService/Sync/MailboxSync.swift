import Foundation
import MailSyncClient
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import MailSyncMatching
import MailSyncStorage

/// One sync of one mailbox: log in, find INBOX and the sent folder, read each from its cursor,
/// and record what matches a lead, one committed batch at a time.
///
/// Per folder: a `STATUS` of both folders (one pipelined round trip) says whether anything is new;
/// only then `EXAMINE`, `UID SEARCH` from the cursor (the first sync, or one after a UIDVALIDITY
/// change, searches `SINCE` the backfill point instead), and per batch of
/// ``SyncSettings/headersPerBatch`` UIDs: headers (`ENVELOPE`), classification, one lead lookup,
/// bodies only for mail that will be recorded, then one write transaction holding the batch's
/// records and the folder cursor. A kill at any point therefore loses nothing and records
/// nothing twice: a batch is there with its cursor or neither is.
///
/// Failures are thrown as ``SyncFailure`` after the batches committed so far stay committed.
struct MailboxSync: Sendable {
    let env: ServiceEnvironment
    let settings: SyncSettings

    /// What the run did, also when it failed part-way.
    struct Report: Sendable, Hashable {
        var recorded = 0
        var unmatchable = 0
        var skippedInternal = 0
        var capReached = false
        var recordedToday = 0
        var firstSync = false
        /// IMAP round trips after login.
        var roundTrips = 0
    }

    func run(tenant: TenantID, target: SyncTarget, policy: CompanySyncPolicy, now: Int64, report: inout Report) async throws(SyncFailure) {
        let imap = try await login(tenant: tenant, target: target)
        let startTrips = imap.roundTrips
        do {
            let folders = try await imap.syncFolders()
            let list = [folders.inbox] + (folders.sent.map { [$0] } ?? [])
            let states = try await imap.status(list)
            let backfill = target.backfillSince ?? (now - settings.backfillWindow.microseconds)
            report.firstSync = target.cursors.isEmpty
            for (index, folder) in list.enumerated() {
                let capReached = try await syncFolder(
                    imap, folder, status: index < states.count ? states[index] : nil, isSent: index > 0,
                    target: target, policy: policy, backfill: backfill, tenant: tenant, report: &report)
                if capReached { break }
            }
            report.roundTrips = imap.roundTrips - startTrips
            await imap.close()
        } catch let error as IMAPConnectionError {
            report.roundTrips = imap.roundTrips - startTrips
            await imap.close()
            throw SyncFailure(error)
        } catch let error as SyncFailure {
            await imap.close()
            throw error
        } catch {
            await imap.close()
            throw SyncFailure(storage: error)
        }
    }

    /// Syncs one folder from its cursor; returns true when the daily cap stopped it.
    private func syncFolder(
        _ imap: IMAPConnection, _ folder: IMAPFolder, status: FolderState?, isSent: Bool, target: SyncTarget,
        policy: CompanySyncPolicy, backfill: Int64, tenant: TenantID, report: inout Report
    ) async throws -> Bool {
        let cursor = target.cursors[folder.name]
        if let cursor, let status, cursor.uidValidity == status.uidValidity, let next = status.uidNext, next <= cursor.highestUID &+ 1 {
            return false  // nothing new: the poll costs the shared STATUS round trip only
        }
        let state = try await imap.examine(folder)
        let rescan = cursor == nil || cursor?.uidValidity != state.uidValidity
        let after = rescan ? 0 : cursor?.highestUID ?? 0
        let since = rescan ? Date(timeIntervalSince1970: Double(backfill) / 1e6) : nil
        let uids = try await imap.uidSearch(afterUID: after, since: since, upTo: state.uidNext.map { $0 &- 1 })
        let mailbox = target.mailbox
        let size = max(1, settings.headersPerBatch)
        let chunks = stride(from: 0, to: uids.count, by: size).map { Array(uids[$0..<min(uids.count, $0 + size)]) }
        let maxLength = settings.maxCommandLength
        // The next batch's headers are asked for before this batch is matched and committed, so
        // the server works while we do (the connection still runs one command at a time).
        var prefetch: Task<[FetchedHeader], any Error>? = chunks.first.map { first in
            Task { try await imap.fetchHeaders(uids: first, maxCommandLength: maxLength) }
        }
        defer { prefetch?.cancel() }
        for index in chunks.indices {
            guard let current = prefetch else { break }
            let headers = try await current.value
            prefetch = index + 1 < chunks.count ? Task { [next = chunks[index + 1]] in
                try await imap.fetchHeaders(uids: next, maxCommandLength: maxLength)
            } : nil
            let now = env.clock.now()
            let day = target.calendar.day(now)
            var classified: [(FetchedHeader, MailClassification)] = []
            var addresses: Set<String> = []
            var keys: [String] = []
            for header in headers {
                let classification = MailClassification.classify(header.envelope, inSentFolder: isSent, directory: target.directory)
                if case .candidate(let candidate) = classification {
                    addresses.formUnion(candidate.lookupAddresses)
                    keys.append(candidate.key)
                }
                classified.append((header, classification))
            }
            let lookupAddresses = Array(addresses)
            let lookupKeys = keys
            let lookup = try await env.read(tenant, "the leads") { db in
                try SyncStore.lookup(db, mailboxID: mailbox.id, userID: mailbox.userId, day: day, addresses: lookupAddresses, keys: lookupKeys)
            }
            // Bodies only for mail that will be recorded today (the cap leaves the rest for later).
            var allowance = policy.dailyCap > 0 ? max(0, policy.dailyCap - lookup.recordedToday) : Int.max
            var wanted: [UInt32] = []
            var plans: [(FetchedHeader, MailClassification.Candidate, [String])?] = []
            for (header, classification) in classified {
                switch classification {
                case .unmatchable:
                    report.unmatchable += 1
                    plans.append(nil)
                case .internalOnly:
                    report.skippedInternal += 1
                    plans.append(nil)
                case .candidate(let candidate):
                    var leads: [String] = []
                    for address in candidate.lookupAddresses {
                        for lead in lookup.leadsByAddress[address] ?? [] where !leads.contains(lead) { leads.append(lead) }
                    }
                    guard !leads.isEmpty else { plans.append(nil); continue }
                    plans.append((header, candidate, leads))
                    if !lookup.alreadyRecorded.contains(candidate.key), allowance > 0 {
                        allowance -= 1
                        if header.size <= UInt64(settings.maxStoredMessageBytes) { wanted.append(header.uid) }
                    }
                }
            }
            let bodies = wanted.isEmpty ? [:] : try await imap.fetchBodies(uids: wanted, maxCommandLength: settings.maxCommandLength)
            var items: [SyncStore.Item] = []
            for (index, plan) in plans.enumerated() {
                let header = classified[index].0
                guard let (_, candidate, leads) = plan else {
                    items.append(.skip(uid: header.uid))
                    continue
                }
                let raw = bodies[header.uid]
                items.append(.record(uid: header.uid, SyncStore.Mail(
                    key: candidate.key,
                    subject: String((header.envelope.subjectText ?? "").prefix(1000)),
                    date: header.internalDate.map { Int64($0.timeIntervalSince1970 * 1e6) } ?? now.microsecondsSinceEpoch,
                    direction: candidate.direction, participants: candidate.participants, leadIDs: leads,
                    size: Int64(clamping: header.size),
                    bodyText: raw.map { TimelineBodies.compress(MailBodyText.extract($0)) },
                    raw: raw.map(TimelineBodies.compress(bytes:)))))
            }
            let batch = items
            let validity = state.uidValidity
            let cap = policy.dailyCap
            let time = now.microsecondsSinceEpoch
            let result = try await env.write(tenant, "the synced mail") { db in
                try SyncStore.commit(db, mailbox: mailbox, folder: folder.name, uidValidity: validity, items: batch,
                                     dailyCap: cap, day: day, now: time)
            }
            report.recorded += result.recorded
            report.recordedToday = result.recordedToday
            env.metrics.recorded(arrivals: result.recordedDates, now: env.clock.now().microsecondsSinceEpoch)
            if result.capReached {
                report.capReached = true
                return true
            }
        }
        // Everything up to the folder's UIDNEXT at EXAMINE time is now handled (older mail
        // outside the backfill window is meant to be passed over).
        if let next = state.uidNext, next > 1 {
            let highest = max(next - 1, uids.last ?? 0)
            let folderName = folder.name
            let validity = state.uidValidity
            let time = env.clock.now().microsecondsSinceEpoch
            try await env.write(tenant, "the folder cursor") { db in
                try SyncStore.setCursor(db, mailboxID: mailbox.id, folder: folderName,
                                        FolderCursor(uidValidity: validity, highestUID: highest), now: time)
            }
        } else if rescan, uids.isEmpty {
            let folderName = folder.name
            let validity = state.uidValidity
            let time = env.clock.now().microsecondsSinceEpoch
            try await env.write(tenant, "the folder cursor") { db in
                try SyncStore.setCursor(db, mailboxID: mailbox.id, folder: folderName,
                                        FolderCursor(uidValidity: validity, highestUID: 0), now: time)
            }
        }
        return false
    }

    static func security(_ security: ConnectionSecurity) -> IMAPConnection.Security {
        switch security {
        case .none: .none
        case .starttls: .starttls
        default: .tls
        }
    }
}
