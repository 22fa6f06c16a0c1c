import MailSyncClient
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData
import MailSyncEngine

/// `TestMailboxConnection`: a mailbox's connection checked step by step on demand.
struct ConnectionTestHandlers: MailSync.ConnectionTestsHandler {
    let env: ServiceEnvironment
    let settings: SyncSettings
    let inFlight = MailboxConnectionTest.InFlight()

    /// Tests the mailbox's IMAP connection (see the schema). A disabled mailbox has no credentials
    /// left (`failed precondition`); another test of the same mailbox still running is `aborted`.
    func testMailboxConnection(_ request: TestMailboxConnectionRequest, context: ServerContext) async throws -> TestMailboxConnectionResponse {
        let (_, tenant) = try context.tenant()
        try Validate.required(request.mailboxId, "mailbox_id")
        let id = request.mailboxId
        guard let target = try await env.read(tenant, "the mailbox", { try SyncStore.target($0, mailboxID: id) }) else {
            throw RPCError(.notFound, "mailbox \(id) not found")
        }
        try context.requireAccess(toUser: target.mailbox.userId)
        guard target.mailbox.status != .disabled else {
            throw RPCError(.failedPrecondition, "mailbox \(id) is disabled and its credentials are gone; connect it again to test it")
        }
        let key = "\(tenant)/\(id)"
        guard inFlight.claim(key) else {
            throw RPCError(.aborted, "a test of mailbox \(id) is already running; wait for its answer")
        }
        defer { inFlight.release(key) }
        let steps = await MailboxConnectionTest(env: env, settings: settings).run(tenant: tenant, target: target)
        var response = TestMailboxConnectionResponse()
        response.steps = steps.steps.map(ConnectionTestStep.init)
        response.ok = steps.ok
        return response
    }
}
