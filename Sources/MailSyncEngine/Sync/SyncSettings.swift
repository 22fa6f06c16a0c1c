/// How the sync engine behaves; every default is what production runs with.
public struct SyncSettings: Sendable {
    /// How far back the first sync of a new mailbox reaches (IMAP `SINCE`, by INTERNALDATE).
    /// Default 30 days.
    public var backfillWindow: Duration = .seconds(30 * 86_400)
    /// Messages per header batch (`UID FETCH … ENVELOPE`); each batch's records and the folder
    /// cursor commit together. Default 500.
    public var headersPerBatch: Int = 500
    /// Mailboxes synced at once across all companies. Default 8; each holds one IMAP connection
    /// and its thread while it runs.
    public var maxConcurrentSyncs: Int = 8
    /// Mailboxes of one company synced at once. Default nil: half of ``maxConcurrentSyncs``
    /// (at least 1), so one company, however many mailboxes or however slow its mail servers, never
    /// holds every slot while others wait. Free slots go to the company with the fewest runs in
    /// flight first (``SyncSlots``).
    public var maxConcurrentSyncsPerCompany: Int?
    /// Wall-clock budget of one run (login, every folder, every batch). Default 10 minutes: a
    /// 20,000-message first sync takes seconds here, and a run that is cut keeps every batch it
    /// committed and continues from there next time. A run over budget stops with a temporary
    /// error (`connection.tooSlow`, naming the server) and is retried with backoff.
    public var runBudget: Duration = .seconds(600)
    /// Failing without a break for this long makes a mailbox `CONNECTION_ISSUE`: no more attempts
    /// until its credentials are updated or a resync is asked for. Default 2 days (the seeds).
    public var connectionIssueAfter: Duration = .seconds(2 * 86_400)
    /// Poll interval when neither the plan nor the provider asks for a longer one. Default 5 minutes.
    public var defaultPollInterval: Duration = .seconds(300)
    /// Random spread added to poll and retry delays, as a fraction of the delay (0.1 = up to +10%),
    /// so mailboxes connected together do not poll together.
    public var jitter: Double = 0.1
    /// TCP connect + TLS + login budget. Default 30 s.
    public var connectTimeout: Duration = .seconds(30)
    /// How long one IMAP command (or pipelined batch) may take in all, however slowly the server
    /// trickles its answer. Default 120 s.
    public var commandTimeout: Duration = .seconds(120)
    /// A PEM bundle to trust for IMAP TLS instead of the system's (tests' self-signed servers).
    public var caFile: String?
    /// Longest command line sent; longer UID sets are split. Default 1,000 bytes.
    public var maxCommandLength: Int = 1000
    /// Bodies larger than this are recorded without their text (the timeline keeps subject and
    /// participants). Default 25 MiB.
    public var maxStoredMessageBytes: Int = 25 << 20
    /// Most bytes one body fetch may ask for: a batch's bodies are fetched in groups whose
    /// allowances (announced RFC822.SIZE + 10% + 64 KiB; 50 MiB when none was announced) add up
    /// to at most this, a larger message alone; each group is compressed before the next is
    /// fetched, so a batch holds one group's raw bytes at a time. The server's replies are held to
    /// the group's allowances (``IMAPReplyBudget/bodies(announced:)``). Default 32 MiB.
    public var maxBodyBytesPerFetch: Int = 32 << 20
    /// Retro-match (``MailboxSync``, after each run's incremental pass): at most this many new lead
    /// addresses per `UID SEARCH` (`OR FROM … TO … CC … BCC …` per address); a search also takes
    /// fewer when its keys would pass 7,000 bytes (``IMAPAddressSearch/defaultMaxLength``).
    /// Default 20.
    public var retroMatchAddressesPerSearch: Int = 20
    /// Retro-match: at most this many searches per run, over all folders synced (INBOX and the
    /// sent folder: two per batch of addresses, so the default searches 20 batches, 400 addresses,
    /// per run). A bulk import of thousands of leads is spread over the following runs. A search
    /// in a large folder on a server without ESEARCH is sent as windows of 5,000 UIDs, pipelined,
    /// and counts once here. Default 40; 0 turns retro-match off (a Resync still reaches
    /// everything).
    public var retroMatchSearchesPerRun: Int = 40
    /// Whether `start()` runs the background loop. Tests turn it off and call `runDue()` after
    /// moving their clock.
    public var runsInBackground: Bool = true
    /// Whether INBOXes are watched with IMAP IDLE (RFC 2177) so new mail is synced within
    /// seconds instead of at the next poll. Default off. Only where the server advertises IDLE,
    /// for mailboxes whose last run succeeded and is not at its daily cap, within the bounds
    /// below; every other mailbox (and a watched one whose IDLE fails) simply keeps polling.
    /// Polling continues for watched mailboxes too, at the usual interval. Needs
    /// ``runsInBackground`` for new mail to be synced at once.
    public var idleEnabled: Bool = false
    /// IDLE connections held at once by the whole server. Default 500 (each holds a socket and a
    /// thread; about 0.11 MiB resident per watched mailbox, docs/benchmarks.md).
    public var maxIdleConnections: Int = 500
    /// IDLE connections held at once for one company's mailboxes. Default 50.
    public var maxIdleConnectionsPerCompany: Int = 50
    /// IDLE connections held at once to one IMAP server (by host name, case-insensitive). Default
    /// 100: providers limit simultaneous connections, and a sync run needs one beside the IDLE.
    public var maxIdleConnectionsPerServer: Int = 100
    /// How long one IDLE waits before it is ended (`DONE`) and issued again. Default 25 minutes,
    /// under the 29 minutes after which RFC 2177 lets servers drop an idle client.
    public var idleRenewal: Duration = .seconds(25 * 60)
    /// Shortest time between two runs a watcher asks for. Default 2 s: mail arriving in a burst
    /// (or a server reporting changes without pause) costs one run per interval, never a run per
    /// report; polling's interval and provider floors do not apply to these runs.
    public var idleMinimumWakeInterval: Duration = .seconds(2)
    /// Longest wait before a watcher whose connection failed connects again; waits start at
    /// 1 s and double per failure in a row. Default 5 minutes.
    public var idleMaxBackoff: Duration = .seconds(300)

    public init() {}

    /// ``maxConcurrentSyncsPerCompany`` or its default.
    public var perCompanyLimit: Int {
        max(1, min(maxConcurrentSyncs, maxConcurrentSyncsPerCompany ?? maxConcurrentSyncs / 2))
    }
}
