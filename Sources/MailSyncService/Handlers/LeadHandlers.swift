import MailSyncClient
import MailSyncRPC

/// (To be implemented.)
struct LeadHandlers: Sendable {
    let env: ServiceEnvironment

    var methods: [ServerMethod] { [] }
}
