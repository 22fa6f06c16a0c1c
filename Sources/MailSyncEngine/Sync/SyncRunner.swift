import Foundation
import Logging
import MailSyncErrors
import MailSyncStorage
import MailSyncTenantData

/// Runs one due mailbox: reads its company's policy and its own state, syncs (or, for a failure
/// streak with no attempts left, only judges it), and stores the outcome.
package struct SyncRunner: Sendable {
    package let env: any SyncEnvironment
    package let settings: SyncSettings
    package let logger: Logger

    /// Returns the mailbox's next due time (µs; nil when it leaves the schedule) and what the run did.
    package func run(tenant: TenantID, mailboxID: String) async -> (next: Int64?, summary: SyncRunSummary) {
        let started = ContinuousClock.now
        var summary = SyncRunSummary(tenant: tenant, mailboxID: mailboxID, recorded: 0, roundTrips: 0, succeeded: false, duration: .zero)
        let next: Int64?
        do {
            next = try await attempt(tenant: tenant, mailboxID: mailboxID, summary: &summary)
        } catch is CancellationError {
            // The server is stopping: not a failure; due again at once when it starts.
            next = env.clock.now().microsecondsSinceEpoch
        } catch {
            // Only our own storage can fail here (the mail side is handled inside): try again later.
            logger.error("sync: cannot run a mailbox", metadata: ["tenant": "\(tenant)", "mailbox": "\(mailboxID)", "error": "\(error)"])
            summary.errorClass = "operator"
            next = env.clock.now().microsecondsSinceEpoch + Backoff.standard.initial.microseconds
        }
        summary.duration = ContinuousClock.now - started
        return (next, summary)
    }

    private func attempt(tenant: TenantID, mailboxID: String, summary: inout SyncRunSummary) async throws -> Int64? {
        let runStarted = ContinuousClock.now
        let companyID = tenant.description
        guard let policy = try await env.controlRead("the company", { try CompanySyncPolicy.read($0, companyID: companyID) }),
              policy.active else { return nil }
        guard var loaded = try await env.read(tenant, "the mailbox", { try SyncStore.target($0, mailboxID: mailboxID) }) else {
            return nil
        }
        loaded.budget = env.syncProviders.budget(loaded.mailbox.provider)
        let target = loaded
        let status = target.mailbox.status
        guard status == .enabled || status == .error else { return nil }
        let started = env.clock.now().microsecondsSinceEpoch

        var report = MailboxSync.Report()
        var failure: Diagnosis?
        var exchange: [String] = []
        var decision: MailboxHealth.Decision
        var deferral: (until: Int64, reason: String)?
        let today = ProviderBudget.utcDay(started)
        if target.retry.exhausted {
            decision = MailboxHealth.whenExhausted(state: target.retry, now: started, connectionIssueAfter: settings.connectionIssueAfter)
        } else if let used = target.budget.exhausted(target.usage.on(today)) {
            // The provider's daily budget is nearly used: not even a login until the next UTC day.
            let until = ProviderBudget.startOfNextUTCDay(after: started)
            deferral = (until, "\(used); syncing continues after midnight UTC, nothing to do")
            decision = MailboxHealth.afterThrottling(status: status, state: target.retry, until: until)
        } else {
            if target.backfillSince == nil {
                let backfill = started - settings.backfillWindow.microseconds
                try await env.limitedWrite(tenant, "the mailbox") { db in
                    try MailboxRecords.startBackfill(db, id: mailboxID, since: backfill)
                    try SyncEventRecords.insert(
                        db, kind: .syncStarted, mailboxID: mailboxID, userID: target.mailbox.userId, status: status,
                        detail: "first sync: mail received since \(Self.dayText(backfill))", now: started)
                }
            }
            var current = target
            if current.backfillSince == nil { current.backfillSince = started - settings.backfillWindow.microseconds }
            do {
                try await MailboxSync(env: env, settings: settings).run(
                    tenant: tenant, target: current, policy: policy, now: started, deadline: runStarted + settings.runBudget, report: &report)
            } catch {
                if error.isStopped { throw CancellationError() }  // stopped, not failed: nothing to judge
                failure = error.diagnosis
                exchange = error.exchange
                summary.overBudget = error.isOverBudget
                if error.diagnosis.errorClass == .operator {
                    logger.error("sync: our side failed", metadata: [
                        "tenant": "\(tenant)", "mailbox": "\(mailboxID)", "note": "\(error.diagnosis.operatorNote ?? error.diagnosis.serverText)"])
                }
            }
            let now = env.clock.now().microsecondsSinceEpoch
            if let throttled = failure, throttled.isThrottling {
                // The provider holds the mailbox back: not a failure, nothing for the user to fix.
                let until = throttled.rule == "connection.dailyLimitReached"
                    ? ProviderBudget.startOfNextUTCDay(after: now)
                    : now + jitter(throttled.retry.backoff?.delay(forAttempt: 1) ?? Backoff.standard.initial).microseconds
                deferral = (until, "\(throttled.serverText) — \(throttled.hint)")
                decision = MailboxHealth.afterThrottling(status: status, state: target.retry, until: until)
                failure = nil
                exchange = []
            } else if let failure {
                decision = MailboxHealth.afterFailure(
                    failure.retry, state: target.retry, now: now, connectionIssueAfter: settings.connectionIssueAfter, jitter: jitter)
            } else {
                let interval = policy.pollInterval(provider: target.mailbox.provider, providers: env.syncProviders, default: settings.defaultPollInterval)
                var next = now + jitter(interval).microseconds
                if report.capReached {
                    next = max(next, target.calendar.startOfNextDay(after: env.clock.now()).microsecondsSinceEpoch)
                }
                decision = MailboxHealth.afterSuccess(nextPoll: next)
            }
        }
        summary.recorded = report.recorded
        summary.roundTrips = report.roundTrips
        summary.retroSearches = report.retro.searches
        summary.capReached = report.capReached
        summary.succeeded = failure == nil && !target.retry.exhausted
        summary.errorClass = failure.map { "\($0.errorClass)" }
        let finalReport = report
        let finalFailure = failure
        let finalExchange = exchange
        let finalDeferral = deferral
        let finalDecision = decision
        let succeeded = failure == nil && deferral == nil && !target.retry.exhausted
        let usage = ProviderBudget.Usage(day: today, bytes: report.downloadedBytes, commands: Int64(report.commands))
        let now = env.clock.now().microsecondsSinceEpoch
        let (promoted, next) = try await env.limitedWrite(tenant, "the sync's outcome") { db in
            let promoted = try SyncOutcomeStore.finish(
                db, mailboxID: mailboxID, decision: finalDecision, report: finalReport, failure: finalFailure, exchange: finalExchange,
                deferral: finalDeferral, usage: usage, mailboxSyncLimit: policy.mailboxSyncLimit, succeeded: succeeded, now: now)
            return (promoted, try MailboxRecords.nextSync(db, id: mailboxID))
        }
        if !promoted.isEmpty { env.syncRequests.scheduleChanged(tenant) }
        return next
    }

    /// Adds up to the settings' jitter fraction to `delay`.
    package func jitter(_ delay: Duration) -> Duration {
        guard settings.jitter > 0 else { return delay }
        return delay + delay * Double.random(in: 0...settings.jitter)
    }

    package static func dayText(_ microseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date(timeIntervalSince1970: Double(microseconds) / 1e6))
    }
}
