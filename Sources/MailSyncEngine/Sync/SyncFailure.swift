import MailSyncErrors
import MailSyncMailTransport
import MailSyncTenantData

/// Why a sync attempt failed: the diagnosis the error log records and the retry follows.
package struct SyncFailure: Error, Sendable, CustomStringConvertible {
    package var diagnosis: Diagnosis
    /// The redacted exchange with the mail server before the failure (``IMAPExchangeLog``),
    /// kept with the error log's entry; empty for failures found on our side.
    package var exchange: [String] = []

    /// A failure reported by the mail server or the connection to it.
    package init(_ error: IMAPConnectionError) {
        diagnosis = error.diagnosis
        exchange = error.exchange
    }

    /// A failure found on our side before talking to the server (no credentials stored, …).
    package init(_ errorClass: MailSyncErrors.ErrorClass, text: String, hint: String, rule: String) {
        let retry: RetryPolicy = errorClass == .temporary ? .temporaryDefault : .untilSettingsChange
        diagnosis = Diagnosis(errorClass: errorClass, hint: hint, retry: retry, serverText: text, rule: rule)
    }

    /// Our own storage failed while recording (a full disk, an I/O error): not the user's doing,
    /// retried on the standard backoff; the text says what happened for operators.
    package init(storage error: any Error) {
        if let refusal = error as? StorageQuotaExceeded {
            // The company's own quota, not our failure: said to the company, retried with backoff
            // (space may be freed or the quota raised), nothing recorded past the last batch.
            diagnosis = Diagnosis(
                errorClass: .configuration,
                hint: "The company's storage quota is full, so new mail is not recorded. Free space (delete leads no longer needed, or disable mailboxes removing their mail) or ask for a bigger plan; Mail Sync continues where it stopped.",
                retry: .temporaryDefault, serverText: refusal.message, rule: "local.storageQuota")
            return
        }
        diagnosis = Diagnosis(
            errorClass: .operator, hint: "A problem on the Mail Sync server; it retries by itself and nothing was lost.",
            retry: .temporaryDefault, serverText: "recording failed: \(error)".prefix(500).description, rule: "local.storage",
            operatorNote: "the tenant database refused a write: \(error)")
    }

    /// The run's time budget ran out between two batches (inside a command, the connection
    /// reports it itself, with the same rule).
    package static func overBudget(host: String, port: Int) -> SyncFailure {
        SyncFailure(diagnosis: MailErrorClassifier.classify(.connection(ConnectionFailure(
            .tooSlow, host: host, port: port, detail: "the sync's time budget ran out before all new mail was read"))))
    }

    /// The run was cancelled because the server is stopping (``SyncScheduler/stop()``): not a
    /// failure, never recorded; the runner turns it back into a `CancellationError`.
    package static let stopped = SyncFailure(diagnosis: Diagnosis(
        errorClass: .temporary, hint: "The server stopped during the sync; it continues where it stopped.",
        retry: .temporaryDefault, serverText: "the server is stopping", rule: "local.stopped"))

    /// Whether this is ``stopped``.
    package var isStopped: Bool { diagnosis.rule == "local.stopped" }

    /// Whether the run stopped because its time budget ran out.
    package var isOverBudget: Bool { diagnosis.rule == "connection.tooSlow" }

    package var description: String { "\(diagnosis.errorClass): \(diagnosis.serverText)" }
}
