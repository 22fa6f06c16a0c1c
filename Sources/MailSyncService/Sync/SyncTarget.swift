import MailSyncClient
import MailSyncMatching
import MailSyncTenantData

/// Everything one sync of one mailbox needs from the company's database, read in one transaction
/// at the start of the run.
struct SyncTarget: Sendable {
    var mailbox: MailboxRecord
    var sealedSecret: [UInt8]?
    var retry: RetryState
    /// The first sync (and a sync after a UIDVALIDITY change) reaches back to this time (µs);
    /// nil until the first sync sets it from the backfill window.
    var backfillSince: Int64?
    var directory: CompanyDirectory
    var calendar: CompanyCalendar
    /// By folder name.
    var cursors: [String: FolderCursor]
    /// The provider's daily limits and what the mailbox used of them (``ProviderBudget``).
    var budget = ProviderBudget()
    var usage = ProviderBudget.Usage.none("")
}

/// How far a folder has been synced: everything up to `highestUID` under `uidValidity` is done.
struct FolderCursor: Sendable, Hashable {
    var uidValidity: UInt32
    var highestUID: UInt32
}

/// A mailbox's failure streak, stored with it.
struct RetryState: Sendable, Hashable {
    /// When the current streak of failures began (µs); nil while the mailbox is healthy.
    var failingSince: Int64?
    /// Failed attempts in the streak.
    var failedAttempts: Int = 0
    /// No further attempt will be made in this streak (authentication retries used up, or a
    /// configuration error): the next due time only checks for `CONNECTION_ISSUE`.
    var exhausted: Bool = false

    static let healthy = RetryState()
}
