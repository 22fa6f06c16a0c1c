import MailSyncStorage
import MailSyncTenantData

/// What one run of one mailbox did, kept by the scheduler for the last runs (observability,
/// benchmarks, metrics).
public struct SyncRunSummary: Sendable, Hashable {
    public var tenant: TenantID
    public var mailboxID: String
    /// Emails recorded on timelines by this run.
    public var recorded: Int
    /// IMAP round trips after login (0 when the run did not connect).
    public var roundTrips: Int
    /// Whether the run connected and finished without an error.
    public var succeeded: Bool
    /// The failure's class (`authentication`, `configuration`, `temporary`, `operator`) when the
    /// run failed; nil when it succeeded or had nothing to do.
    public var errorClass: String?
    /// Wall time of the run, from reading the mailbox to storing the outcome.
    public var duration: Duration
    /// Retro-match `UID SEARCH` commands sent by this run (``SyncSettings/retroMatchSearchesPerRun``
    /// bounds them).
    public var retroSearches = 0
    /// The run stopped because its time budget (``SyncSettings/runBudget``) ran out.
    public var overBudget = false
    /// The run stopped at the user's daily cap (the next run is the next day).
    public var capReached = false

    public init(
        tenant: TenantID, mailboxID: String, recorded: Int, roundTrips: Int, succeeded: Bool, errorClass: String? = nil,
        duration: Duration, retroSearches: Int = 0, overBudget: Bool = false, capReached: Bool = false
    ) {
        self.tenant = tenant
        self.mailboxID = mailboxID
        self.recorded = recorded
        self.roundTrips = roundTrips
        self.succeeded = succeeded
        self.errorClass = errorClass
        self.duration = duration
        self.retroSearches = retroSearches
        self.overBudget = overBudget
        self.capReached = capReached
    }
}
