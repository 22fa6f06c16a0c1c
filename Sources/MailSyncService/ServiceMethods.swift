import MailSyncClient
public import MailSyncCoding
public import MailSyncRPC
import MailSyncEngine

/// The methods the server serves: every RPC in the schema, each answered by the handler group of
/// its area (`area = …` in `Schema/mailsync.msrpc`).
///
/// The table comes from the generated `MailSync.serverMethods(…)`, which takes one handler per
/// area and whose protocols (`MailSync.CompaniesHandler`, …) list every rpc of the area with its
/// types: a missing area, a missing method or a method with the wrong types does not compile. An
/// rpc the schema marks `not_yet_served` answers `unimplemented` through the protocol's default.
public enum ServiceMethods {
    /// `sync`: the sync engine's settings, which `TestMailboxConnection` connects with.
    ///
    /// Without an environment (no data directory open), only `GetServerInfo` is served; every
    /// other method answers `unimplemented` (`MailSync.UnimplementedHandler`), its roles still
    /// enforced by the router.
    public static func make(environment: ServiceEnvironment?, sync: SyncSettings = SyncSettings(), startedAt: Timestamp) -> [ServerMethod] {
        let serverInfo = ServerInfoHandler(startedAt: startedAt)
        guard let environment else { return unconfigured(serverInfo: serverInfo) }
        return MailSync.serverMethods(
            serverInfo: serverInfo,
            companies: CompanyHandlers(env: environment),
            apiKeys: APIKeyHandlers(env: environment),
            users: UserHandlers(env: environment),
            leads: LeadHandlers(env: environment),
            mailboxes: MailboxHandlers(env: environment),
            connectionTests: ConnectionTestHandlers(env: environment, settings: sync),
            events: EventHandlers(env: environment),
            billing: BillingHandlers(env: environment),
            smartMail: SmartMailHandlers(env: environment),
            oAuth: OAuthHandlers(env: environment),
            backups: BackupHandlers(env: environment))
    }

    /// `GetServerInfo`, and `unimplemented` for everything else.
    private static func unconfigured(serverInfo: ServerInfoHandler) -> [ServerMethod] {
        let none = MailSync.UnimplementedHandler()
        return MailSync.serverMethods(
            serverInfo: serverInfo, companies: none, apiKeys: none, users: none, leads: none, mailboxes: none,
            connectionTests: none, events: none, billing: none, smartMail: none, oAuth: none, backups: none)
    }
}
