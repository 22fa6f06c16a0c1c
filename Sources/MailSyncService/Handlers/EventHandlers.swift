import MailSyncClient
import MailSyncRPC

/// (To be implemented.)
struct EventHandlers: Sendable {
    let env: ServiceEnvironment

    var methods: [ServerMethod] { [] }
}
