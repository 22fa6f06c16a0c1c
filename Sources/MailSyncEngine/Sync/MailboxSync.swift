import Foundation
import MailSyncCoding
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import MailSyncMatching
import MailSyncStorage
import MailSyncTenantData

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
/// Then retro-match (``retroMatch(_:folders:target:policy:since:tenant:deadline:report:)``): the
/// past mail of lead addresses added since the last run, found by the server's own search.
///
/// Failures are thrown as ``SyncFailure`` after the batches committed so far stay committed.
package struct MailboxSync: Sendable {
    package let env: any SyncEnvironment
    package let settings: SyncSettings

    /// What the run did, also when it failed part-way.
    package struct Report: Sendable, Hashable {
        var recorded = 0
        var unmatchable = 0
        var skippedInternal = 0
        var capReached = false
        var recordedToday = 0
        var firstSync = false
        /// IMAP round trips after login.
        var roundTrips = 0
        /// Bytes received and commands sent after login: the provider governor's count.
        var downloadedBytes: Int64 = 0
        var commands = 0
        /// What retro-match did (``retroMatch(_:folders:target:policy:since:tenant:deadline:report:)``).
        var retro = RetroReport()
    }

    /// - Parameter deadline: when the run's budget (``SyncSettings/runBudget``) runs out: every
    ///   IMAP command ends by then, and no batch starts after it; what committed stays.
    package func run(
        tenant: TenantID, target: SyncTarget, policy: CompanySyncPolicy, now: Int64, deadline: ContinuousClock.Instant,
        report: inout Report
    ) async throws(SyncFailure) {
        let imap = try await login(tenant: tenant, target: target)
        imap.runDeadline = deadline
        imap.downloadLimit = target.budget.remainingBytes(target.usage.on(ProviderBudget.utcDay(now)))
        let startTrips = imap.roundTrips
        defer {
            report.downloadedBytes = imap.bytesReceived
            report.commands = imap.commandsSent
        }
        do {
            let folders = try await imap.syncFolders()
            let list = [folders.inbox] + (folders.sent.map { [$0] } ?? [])
            let states = try await imap.status(list)
            let backfill = target.backfillSince ?? (now - settings.backfillWindow.microseconds)
            report.firstSync = target.cursors.isEmpty
            if report.firstSync {
                // Every folder is read from the backfill point with today's leads (looked up after
                // this): what retro-match has queued so far is covered.
                let mailboxID = target.mailbox.id
                try await env.limitedWrite(tenant, "the retro-match progress") { db in
                    try RetroMatchStore.startAtHead(db, mailboxID: mailboxID)
                }
            }
            var capReached = false
            for (index, folder) in list.enumerated() {
                try Task.checkCancellation()
                capReached = try await syncFolder(
                    imap, folder, status: index < states.count ? states[index] : nil, isSent: index > 0,
                    target: target, policy: policy, backfill: backfill, tenant: tenant, deadline: deadline, report: &report)
                if capReached { break }
            }
            if !capReached {
                try Task.checkCancellation()
                try await retroMatch(
                    imap, folders: list.enumerated().map { (folder: $0.element, isSent: $0.offset > 0) }, target: target, policy: policy,
                    since: max(backfill, now - settings.backfillWindow.microseconds), tenant: tenant, deadline: deadline,
                    report: &report)
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
        } catch is CancellationError {
            await imap.close()
            throw SyncFailure.stopped
        } catch {
            await imap.close()
            throw SyncFailure(storage: error)
        }
    }

    /// Syncs one folder from its cursor; returns true when the daily cap stopped it.
    private func syncFolder(
        _ imap: IMAPConnection, _ folder: IMAPFolder, status: FolderState?, isSent: Bool, target: SyncTarget,
        policy: CompanySyncPolicy, backfill: Int64, tenant: TenantID, deadline: ContinuousClock.Instant, report: inout Report
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
        // The work overlaps: the server sends batch n+1's headers (asked for before batch n is
        // matched) while we match batch n; each batch's bodies are fetched, read and compressed in
        // a task of its own while later batches are matched and looked up, and its commit waits
        // for the one before (commits stay in UID order; at most `Self.batchesInFlight` batches are
        // in flight). The lead lookup only decides which bodies to fetch: the commit checks the
        // daily cap and what is already recorded again, inside its transaction, so a lookup made
        // before an earlier batch committed can only fetch a body too many, never record wrongly.
        // Once a batch reaches the cap, the batches after it write nothing (their cursor must not
        // pass the mail left for tomorrow).
        var prefetch: Task<[FetchedHeader], any Error>? = chunks.first.map { first in
            Task { try await imap.fetchHeaders(uids: first, maxCommandLength: maxLength) }
        }
        defer { prefetch?.cancel() }
        /// Oldest first; a nil result: not written, an earlier batch reached the cap.
        var inFlight: [Task<SyncStore.BatchResult?, any Error>] = []
        /// Waits for the oldest batch in flight and takes its result; true when the cap was reached.
        func settleOldest() async throws -> Bool {
            let task = inFlight.removeFirst()
            guard let result = try await task.value else { return true }
            report.recorded += result.recorded
            report.recordedToday = result.recordedToday
            env.syncMetrics.recorded(arrivals: result.recordedDates, now: env.clock.now().microsecondsSinceEpoch)
            if result.capReached { report.capReached = true }
            return result.capReached
        }
        /// Lets every batch still in flight end (they write nothing after the cap); no task of ours
        /// outlives the sync that started it, nor uses the connection after it.
        func drain() async {
            for task in inFlight { _ = try? await task.value }
            inFlight.removeAll()
        }
        do {
            for index in chunks.indices {
                guard let current = prefetch else { break }
                try Task.checkCancellation()  // the server is stopping: committed batches stay
                if ContinuousClock.now >= deadline { throw SyncFailure.overBudget(host: imap.host, port: imap.port) }
                let headers = try await current.value
                prefetch = index + 1 < chunks.count ? Task { [next = chunks[index + 1]] in
                    try await imap.fetchHeaders(uids: next, maxCommandLength: maxLength)
                } : nil
                let planned = try await plan(headers, isSent: isSent, target: target, policy: policy, tenant: tenant)
                report.unmatchable += planned.unmatchable
                report.skippedInternal += planned.skippedInternal
                let (plans, wanted, now, day) = (planned.plans, planned.wanted, planned.now, planned.day)
                if inFlight.count >= Self.batchesInFlight, try await settleOldest() {
                    await drain()
                    return true
                }
                let batch = plans
                let bodyGroups = Self.bodyGroups(wanted, maxBytes: settings.maxBodyBytesPerFetch)
                let commandLength = settings.maxCommandLength
                let validity = state.uidValidity
                let cap = policy.dailyCap
                let folderName = folder.name
                let environment = env
                let previous = inFlight.last
                inFlight.append(Task {
                    let bodies = try await Self.fetchBodies(imap, groups: bodyGroups, maxCommandLength: commandLength)
                    let items = Self.items(batch, bodies: bodies, now: now, backfill: backfill)
                    if let previous {
                        guard let before = try await previous.value, !before.capReached else { return nil }
                    }
                    return try await environment.limitedWrite(tenant, "the synced mail") { db in
                        try SyncStore.commit(db, mailbox: mailbox, folder: folderName, uidValidity: validity, items: items,
                                             dailyCap: cap, day: day, now: now.microsecondsSinceEpoch)
                    }
                })
            }
            while !inFlight.isEmpty {
                if try await settleOldest() {
                    await drain()
                    return true
                }
            }
        } catch {
            await drain()
            throw error
        }
        // Everything up to the folder's UIDNEXT at EXAMINE time is now handled (older mail
        // outside the backfill window is meant to be passed over).
        if let next = state.uidNext, next > 1 {
            let highest = max(next - 1, uids.last ?? 0)
            let folderName = folder.name
            let validity = state.uidValidity
            let time = env.clock.now().microsecondsSinceEpoch
            try await env.limitedWrite(tenant, "the folder cursor") { db in
                try SyncStore.setCursor(db, mailboxID: mailbox.id, folder: folderName,
                                        FolderCursor(uidValidity: validity, highestUID: highest), now: time)
            }
        } else if rescan, uids.isEmpty {
            let folderName = folder.name
            let validity = state.uidValidity
            let time = env.clock.now().microsecondsSinceEpoch
            try await env.limitedWrite(tenant, "the folder cursor") { db in
                try SyncStore.setCursor(db, mailboxID: mailbox.id, folder: folderName,
                                        FolderCursor(uidValidity: validity, highestUID: 0), now: time)
            }
        }
        return false
    }

    /// One batch decided before its bodies are fetched: what to do with each message, which
    /// bodies to fetch, and the time and company day the lookup was made for.
    package struct BatchPlan: Sendable {
        var plans: [Plan] = []
        /// Bodies to fetch: mail not yet recorded by this mailbox, within today's cap, not too large.
        var wanted: [FetchedHeader] = []
        var now: Timestamp
        var day: String
        var unmatchable = 0
        var skippedInternal = 0
        /// Messages matching a lead (recorded, or already recorded and gaining leads).
        var matched = 0
    }

    /// Classifies `headers`, looks their leads up in one read, and decides per message: skip, or
    /// record for its leads (bodies only for mail that will be recorded today; the commit checks
    /// the cap and what is already recorded again, inside its transaction).
    package func plan(
        _ headers: [FetchedHeader], isSent: Bool, target: SyncTarget, policy: CompanySyncPolicy, tenant: TenantID
    ) async throws -> BatchPlan {
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
        let mailbox = target.mailbox
        let now = env.clock.now()
        let day = target.calendar.day(now)
        let lookupAddresses = Array(addresses)
        let lookupKeys = keys
        let lookup = try await env.read(tenant, "the leads") { db in
            try SyncStore.lookup(db, mailboxID: mailbox.id, userID: mailbox.userId, day: day, addresses: lookupAddresses, keys: lookupKeys)
        }
        // Bodies only for mail that will be recorded today (the cap leaves the rest for later).
        var allowance = policy.dailyCap > 0 ? max(0, policy.dailyCap - lookup.recordedToday) : Int.max
        var batch = BatchPlan(now: now, day: day)
        for (header, classification) in classified {
            switch classification {
            case .unmatchable:
                batch.unmatchable += 1
                batch.plans.append(.skip(uid: header.uid))
            case .internalOnly:
                batch.skippedInternal += 1
                batch.plans.append(.skip(uid: header.uid))
            case .candidate(var candidate):
                var leads: [String] = []
                var matched: Set<String> = []
                for address in candidate.lookupAddresses {
                    guard let found = lookup.leadsByAddress[address], !found.isEmpty else { continue }
                    matched.insert(address)
                    for lead in found where !leads.contains(lead) { leads.append(lead) }
                }
                guard !leads.isEmpty else { batch.plans.append(.skip(uid: header.uid)); continue }
                // Shown on the timeline: the first 200 people, and always the leads it is
                // recorded for and the mailbox's own user.
                candidate.participants = MailParticipant.forDisplay(
                    candidate.participants, keeping: matched.union(target.directory.ownerAddresses))
                batch.plans.append(.record(header, candidate, leads: leads))
                batch.matched += 1
                if !lookup.alreadyRecorded.contains(candidate.key), allowance > 0 {
                    allowance -= 1
                    if header.size <= UInt64(settings.maxStoredMessageBytes) { batch.wanted.append(header) }
                }
            }
        }
        return batch
    }

    /// A batch's bodies, fetched in groups (``bodyGroups(_:maxBytes:)``), each compressed before
    /// the next is fetched.
    package static func fetchBodies(
        _ imap: IMAPConnection, groups: [[UInt32: UInt64]], maxCommandLength: Int
    ) async throws -> [UInt32: StoredBody] {
        var bodies: [UInt32: StoredBody] = [:]
        for group in groups {
            for (uid, raw) in try await imap.fetchBodies(announced: group, maxCommandLength: maxCommandLength) {
                bodies[uid] = StoredBody(raw)
            }
        }
        return bodies
    }

    /// Batches whose bodies are being fetched, read or committed while the next is matched.
    package static let batchesInFlight = 2

    /// What to do with one message of a batch, decided before its body is fetched.
    package enum Plan: Sendable {
        case skip(uid: UInt32)
        case record(FetchedHeader, MailClassification.Candidate, leads: [String])
    }

    /// A fetched body as stored: the raw message compressed, and its readable text compressed
    /// only when the message is larger than ``TimelineBodies/textDerivedUpTo`` (smaller ones have
    /// their text extracted when read): one compression per recorded mail, nearly always.
    package struct StoredBody: Sendable {
        var text: [UInt8]?
        var raw: [UInt8]

        package init(_ raw: [UInt8]) {
            text = raw.count > TimelineBodies.textDerivedUpTo ? TimelineBodies.compress(MailBodyText.extract(raw)) : nil
            self.raw = TimelineBodies.compress(bytes: raw)
        }
    }

    /// The messages of `headers` in groups of UID → announced size whose allowances
    /// (``IMAPReplyBudget/bodyAllowance(announced:)``) add up to at most `maxBytes`; a message
    /// whose allowance alone is larger is a group of its own.
    package static func bodyGroups(_ headers: [FetchedHeader], maxBytes: Int) -> [[UInt32: UInt64]] {
        var groups: [[UInt32: UInt64]] = []
        var group: [UInt32: UInt64] = [:]
        var groupBytes = 0
        for header in headers {
            let allowance = IMAPReplyBudget.bodyAllowance(announced: header.size)
            if !group.isEmpty, allowance > maxBytes - groupBytes {
                groups.append(group)
                group = [:]
                groupBytes = 0
            }
            group[header.uid] = header.size
            groupBytes = min(maxBytes, groupBytes + min(allowance, maxBytes))
        }
        if !group.isEmpty { groups.append(group) }
        return groups
    }

    /// The batch's items: a skip, or the mail with its readable text and raw message compressed
    /// (no body when it was not fetched: over the cap for today, too large, or already recorded).
    /// Each recorded mail's timeline date is its `Date:` header when sane, else its INTERNALDATE
    /// (``TimelineDate``).
    package static func items(_ plans: [Plan], bodies: [UInt32: StoredBody], now: Timestamp, backfill: Int64) -> [SyncStore.Item] {
        plans.map { plan in
            switch plan {
            case .skip(let uid):
                return .skip(uid: uid)
            case .record(let header, let candidate, let leads):
                let body = bodies[header.uid]
                let received = header.internalDate.map { Int64($0.timeIntervalSince1970 * 1e6) }
                return .record(uid: header.uid, SyncStore.Mail(
                    key: candidate.key,
                    subject: String((header.envelope.subjectText ?? "").prefix(1000)),
                    date: TimelineDate.choose(header: header.envelope.date, internalDate: received,
                                              now: now.microsecondsSinceEpoch, backfill: backfill),
                    receivedAt: received ?? now.microsecondsSinceEpoch,
                    direction: candidate.direction, participants: candidate.participants, leadIDs: leads,
                    size: Int64(clamping: header.size),
                    bodyText: body?.text, raw: body?.raw))
            }
        }
    }

    package static func security(_ security: ServerAddress.Security) -> IMAPConnection.Security {
        switch security {
        case .none: .none
        case .starttls: .starttls
        default: .tls
        }
    }
}
