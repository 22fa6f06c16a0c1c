public import Logging
public import MailSyncMailTransport
public import MailSyncSecurity
public import MailSyncStorage
public import MailSyncTenantData

/// What the sync engine needs from the server it runs in: the databases, the secret box, the
/// clock, where it may connect, and where it reports.
///
/// The service's `ServiceEnvironment` provides it, so the dependency goes from the service to
/// the engine only. The engine records the errors reads and writes throw (their text goes to the
/// error log and the logs) without looking inside them, except ``StorageQuotaExceeded``, which
/// ``limitedWrite(_:_:_:)`` throws when the company's database is at its quota.
package protocol SyncEnvironment: Sendable {
    var clock: any WallClock { get }
    var control: ControlDatabase { get }
    var tenants: TenantPool { get }
    /// Seals and opens stored mailbox secrets (passwords, OAuth tokens).
    var secrets: SecretBox { get }
    var logger: Logger { get }
    /// Where the engine learns that a company's sync schedule changed (and tells others so).
    var syncRequests: SyncRequests { get }
    /// Where IMAP and OAuth connections may go on a tenant's behalf.
    var outbound: OutboundPolicy { get }
    /// One token refresh at a time per mailbox.
    var oauthRefreshes: OAuthRefreshFlights { get }
    /// Where runs, recorded mail and IDLE watchers are counted.
    var syncMetrics: any SyncMetrics { get }
    /// The provider presets the engine follows: poll floors, daily budgets, token endpoints.
    var syncProviders: any SyncProviders { get }

    /// A write transaction in a company's database, limited to its storage quota; wakes the
    /// company's watchers after it commits.
    /// - Throws: ``StorageQuotaExceeded`` at the quota (nothing was saved); storage errors.
    func limitedWrite<T: Sendable>(
        _ tenant: TenantID, _ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T

    /// A read in a company's database (`what` names it in errors).
    func read<T: Sendable>(_ tenant: TenantID, _ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T

    /// Whether this server serves the company now (in a fleet: it owns it; alone: always).
    func serves(_ tenant: TenantID) async -> Bool
    /// Of `tenants`, those this server serves now (alone: all of them; in a fleet: one read of
    /// every placement).
    func served(among tenants: [TenantID]) async -> Set<TenantID>
    /// Whether companies may come and go (a fleet node); the scheduler then rechecks which it
    /// serves every few seconds.
    var ownershipMayChange: Bool { get }

    /// A read in the control database (`what` names it in errors).
    func controlRead<T: Sendable>(_ what: String, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T
}

/// The engine's metrics (the service's `ServiceMetrics` counts them through swift-metrics).
package protocol SyncMetrics: Sendable {
    /// A run took a slot after waiting `waited` µs past its due time; `inFlight` runs hold slots.
    func runStarted(waited: Int64, inFlight: Int)
    /// A run finished; `inFlight` runs still hold slots.
    func runFinished(_ summary: SyncRunSummary, inFlight: Int)
    /// A batch committed messages that arrived at `arrivals` (µs, INTERNALDATE) at `now` (µs).
    func recorded(arrivals: [Int64], now: Int64)
    /// Mailboxes watched with IMAP IDLE now.
    func setIdleWatchers(_ count: Int)
}

/// What the engine reads from the provider presets (the built-in ones with the server's
/// configuration applied), by a mailbox's stored provider.
package protocol SyncProviders: Sendable {
    /// The provider's floor between two polls of one mailbox, in seconds (0: none).
    func minimumPollIntervalSeconds(_ provider: MailboxRecord.Provider) -> UInt32
    /// The provider's daily limits per mailbox (no limits when it publishes none).
    func budget(_ provider: MailboxRecord.Provider) -> ProviderBudget
    /// Where and how to refresh the provider's OAuth tokens, with the server's client there;
    /// nil when the provider has no OAuth or the server no client for it.
    func tokenRefresh(_ provider: MailboxRecord.Provider) -> OAuthTokenRefresh?
    /// The provider's name in messages (`GMAIL`), nil when it has none.
    func name(_ provider: MailboxRecord.Provider) -> String?
    /// Trusted instead of the system's CAs for token endpoints; nil: the system's.
    var tokenCAFile: String? { get }
}

/// A provider's token endpoint, the scope sent on refresh, and the server's OAuth client there.
package struct OAuthTokenRefresh: Sendable {
    package var tokenEndpoint: String
    package var scope: String
    package var client: OAuthTokenClient.Client

    package init(tokenEndpoint: String, scope: String, client: OAuthTokenClient.Client) {
        self.tokenEndpoint = tokenEndpoint
        self.scope = scope
        self.client = client
    }
}
