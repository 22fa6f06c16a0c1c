import MailSyncClient
import MailSyncRPC

/// (To be implemented.)
struct UserHandlers: Sendable {
    let env: ServiceEnvironment

    var methods: [ServerMethod] { [] }
}
