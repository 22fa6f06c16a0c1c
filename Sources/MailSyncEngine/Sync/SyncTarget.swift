import MailSyncMatching
import MailSyncTenantData

/// Everything one sync of one mailbox needs from the company's database, read in one transaction
/// at the start of the run.
package struct SyncTarget: Sendable {
    package var mailbox: MailboxRecord
    package var sealedSecret: [UInt8]?
    package var retry: RetryState
    /// The first sync (and a sync after a UIDVALIDITY change) reaches back to this time (µs);
    /// nil until the first sync sets it from the backfill window.
    package var backfillSince: Int64?
    package var directory: CompanyDirectory
    package var calendar: CompanyCalendar
    /// By folder name.
    package var cursors: [String: FolderCursor]
    /// The provider's daily limits and what the mailbox used of them (``ProviderBudget``).
    package var budget = ProviderBudget()
    package var usage = ProviderBudget.Usage.none("")

}

/// How far a folder has been synced: everything up to `highestUID` under `uidValidity` is done.
package struct FolderCursor: Sendable, Hashable {
    package var uidValidity: UInt32
    package var highestUID: UInt32

}

/// A mailbox's failure streak, stored with it.
package struct RetryState: Sendable, Hashable {
    /// When the current streak of failures began (µs); nil while the mailbox is healthy.
    package var failingSince: Int64?
    /// Failed attempts in the streak.
    package var failedAttempts: Int = 0
    /// No further attempt will be made in this streak (authentication retries used up, or a
    /// configuration error): the next due time only checks for `CONNECTION_ISSUE`.
    package var exhausted: Bool = false


    package static let healthy = RetryState()
}
