import Foundation
import MailSyncCoding
import MailSyncErrors
import MailSyncStorage
import MailSyncTenantData

/// Writes the end of a sync attempt: status, retry state, next run, the error log and the events,
/// in one transaction, through the tables' owners in `MailSyncTenantData` (no SQL here).
package enum SyncOutcomeStore {
    /// Applies `decision` unless the mailbox changed hands meanwhile (disabled, or moved to
    /// `PENDING`/`CONNECTION_ISSUE` by an RPC while the sync ran): then only the error (if any) is
    /// logged. Returns the mailboxes promoted from `PENDING` because this one gave its place up.
    /// `usage`: this run's own use of the provider, added to its day's counts.
    package static func finish(
        _ db: SQLiteConnection, mailboxID: String, decision: MailboxHealth.Decision, report: MailboxSync.Report,
        failure: Diagnosis?, exchange: [String] = [], deferral: (until: Int64, reason: String)? = nil,
        usage: ProviderBudget.Usage? = nil, mailboxSyncLimit: UInt32, succeeded: Bool, now: Int64
    ) throws -> [MailboxRecord] {
        guard let mailbox = try MailboxRecords.find(db, id: mailboxID) else { return [] }
        if let failure { try logError(db, mailbox: mailbox, failure, exchange: exchange, now: now) }
        if let usage {
            try MailboxRecords.addUsage(db, mailboxID: mailbox.id, day: usage.day, bytes: usage.bytes, commands: usage.commands)
        }
        guard mailbox.status == .enabled || mailbox.status == .error else { return [] }
        // The provider's hold: shown on the mailbox and as an event, never as an error. A run
        // that was not held clears it.
        if let deferral {
            try MailboxRecords.setDeferral(db, id: mailbox.id, until: deferral.until, reason: deferral.reason)
            try SyncEventRecords.insert(
                db, kind: .deferred, mailboxID: mailbox.id, userID: mailbox.userId, status: decision.status,
                emailsSynced: UInt32(clamping: report.recorded),
                detail: "held back by the provider until \(Timestamp(microsecondsSinceEpoch: deferral.until)): \(deferral.reason.prefix(500))", now: now)
        } else if mailbox.deferredUntil != nil {
            try MailboxRecords.clearDeferral(db, id: mailbox.id)
        }

        if succeeded, report.recorded > 0 || report.unmatchable > 0 || report.capReached || report.firstSync || report.retro.didWork {
            try SyncEventRecords.insert(
                db, kind: .syncCompleted, mailboxID: mailbox.id, userID: mailbox.userId, status: decision.status,
                emailsSynced: UInt32(clamping: report.recorded), detail: completionDetail(report), now: now)
        }
        if let failure {
            try SyncEventRecords.insert(
                db, kind: .error, mailboxID: mailbox.id, userID: mailbox.userId, status: decision.status,
                emailsSynced: UInt32(clamping: report.recorded),
                detail: "\(failure.serverText.prefix(500)) — \(failure.hint)", now: now)
        }
        try MailboxRecords.recordAttempt(
            db, id: mailbox.id, failingSince: decision.retry.failingSince, failedAttempts: decision.retry.failedAttempts,
            exhausted: decision.retry.exhausted, nextSyncAt: decision.nextSyncAt, succeeded: succeeded, now: now)
        guard decision.status != mailbox.status else { return [] }
        try MailboxRecords.setStatus(db, id: mailbox.id, decision.status, now: now)
        try SyncEventRecords.insert(
            db, kind: .statusChanged, mailboxID: mailbox.id, userID: mailbox.userId, status: decision.status,
            detail: transitionDetail(decision.status, failure: failure), now: now)
        if decision.status == .connectionIssue {
            return try MailboxRecords.promotePending(db, limit: mailboxSyncLimit, now: now)
        }
        return []
    }

    /// One row per mailbox and server text: a repeat raises `count` and `last_seen`.
    ///
    /// `exchange`: the redacted lines before the failure (``IMAPExchangeLog``); the latest
    /// occurrence's replace the previous ones (newline-separated; a line holds no control character).
    package static func logError(_ db: SQLiteConnection, mailbox: MailboxRecord, _ failure: Diagnosis, exchange: [String] = [], now: Int64) throws {
        try ErrorLogRecords.record(
            db, mailboxID: mailbox.id, userID: mailbox.userId, emailAddress: mailbox.emailAddress,
            errorClass: schemaClass(failure.errorClass), serverText: failure.serverText, hint: failure.hint,
            exchange: exchange, now: now)
    }

    package static func schemaClass(_ errorClass: MailSyncErrors.ErrorClass) -> ErrorLogRecord.ErrorClass {
        switch errorClass {
        case .authentication: .authentication
        case .configuration: .configuration
        case .operator: .operator
        default: .temporary
        }
    }

    package static func completionDetail(_ report: MailboxSync.Report) -> String {
        var parts = ["\(report.recorded) email\(report.recorded == 1 ? "" : "s") recorded"]
        if report.unmatchable > 0 {
            parts.append("\(report.unmatchable) naming neither a sender nor a recipient could not be matched")
        }
        if report.retro.didWork { parts.append(retroDetail(report.retro)) }
        if report.capReached {
            parts.append("the plan's daily limit is reached (\(report.recordedToday) today); the rest is recorded from tomorrow")
        }
        return parts.joined(separator: "; ")
    }

    /// Retro-match's progress, e.g. "retro-match: past mail searched for 20 new lead addresses
    /// (2 searches): 3 emails found, 1 recorded, 2 timeline entries added to mail recorded before;
    /// 480 addresses wait for the next runs".
    package static func retroDetail(_ retro: MailboxSync.RetroReport) -> String {
        var text = "retro-match: past mail searched for \(retro.addresses) new lead address\(retro.addresses == 1 ? "" : "es")"
            + " (\(retro.searches) search\(retro.searches == 1 ? "" : "es")): \(retro.matched) email\(retro.matched == 1 ? "" : "s") found,"
            + " \(retro.recorded) recorded, \(retro.linked) timeline entr\(retro.linked == 1 ? "y" : "ies") added to mail recorded before"
        if retro.unsearchable > 0 {
            text += "; \(retro.unsearchable) address\(retro.unsearchable == 1 ? "" : "es") with characters IMAP search cannot carry safely"
                + " (non-ASCII, quotes, backslashes) passed over: a Resync reaches their mail"
        }
        if let refused = retro.refused {
            text += "; the server refused the search (\(refused)); it is tried again next run"
        }
        if retro.remaining > 0 {
            text += "; \(retro.remaining) address\(retro.remaining == 1 ? "" : "es") wait for the next runs"
        }
        return text
    }

    package static func transitionDetail(_ status: MailboxRecord.Status, failure: Diagnosis?) -> String {
        switch status {
        case .enabled: "synced again"
        case .connectionIssue: "unable to connect for two days; no more attempts until the credentials are updated or a resync is asked for"
        case .error: "sync failed: \(failure?.hint ?? "see the error log")"
        default: "status changed"
        }
    }
}
