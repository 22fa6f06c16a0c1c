import MailSyncClient
public import MailSyncCoding
public import MailSyncRPC

/// The methods the server serves: every RPC in the schema, each either implemented or answering
/// `unimplemented` until its issue lands.
///
/// Built from the generated `MailSync.UnimplementedHandler` with each handler group's methods
/// swapped in by descriptor, so a new RPC in the schema is served (as `unimplemented`) without a
/// code change, and its roles are enforced by the router all the same.
public enum ServiceMethods {
    /// `sync`: the sync engine's settings, which `TestMailboxConnection` connects with.
    public static func make(environment: ServiceEnvironment?, sync: SyncSettings = SyncSettings(), startedAt: Timestamp) -> [ServerMethod] {
        let serverInfo = ServerInfoHandler(startedAt: startedAt)
        var implemented: [ServerMethod] = [
            .unary(MailSync.Method.getServerInfo) { try await serverInfo.getServerInfo($0, context: $1) }
        ]
        if let environment {
            implemented += CompanyHandlers(env: environment).methods
            implemented += APIKeyHandlers(env: environment).methods
            implemented += UserHandlers(env: environment).methods
            implemented += LeadHandlers(env: environment).methods
            implemented += MailboxHandlers(env: environment).methods
            implemented += ConnectionTestHandlers(env: environment, settings: sync).methods
            implemented += EventHandlers(env: environment).methods
            implemented += BillingHandlers(env: environment).methods
            implemented += SmartMailHandlers(env: environment).methods
            implemented += OAuthHandlers(env: environment).methods
            implemented += BackupHandlers(env: environment).methods
        }
        var byName: [String: ServerMethod] = [:]
        for method in implemented {
            precondition(byName[method.descriptor.fullName] == nil, "\(method.descriptor) implemented twice")
            byName[method.descriptor.fullName] = method
        }
        return MailSync.UnimplementedHandler().serverMethods.map { byName[$0.descriptor.fullName] ?? $0 }
    }
}
