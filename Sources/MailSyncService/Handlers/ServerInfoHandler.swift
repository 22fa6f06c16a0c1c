import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncTenantData

/// `GetServerInfo`: the version and start time. Open to anyone; reveals nothing else.
struct ServerInfoHandler: MailSync.ServerInfoHandler {
    let startedAt: Timestamp

    func getServerInfo(_ request: GetServerInfoRequest, context: ServerContext) async throws -> ServerInfo {
        var info = ServerInfo()
        info.version = MailSyncVersion.current
        info.startedAt = startedAt
        return info
    }
}
