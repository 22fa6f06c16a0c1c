import MailSyncClient
import MailSyncRPC

/// (To be implemented.)
struct MailboxHandlers: Sendable {
    let env: ServiceEnvironment

    var methods: [ServerMethod] { [] }
}
