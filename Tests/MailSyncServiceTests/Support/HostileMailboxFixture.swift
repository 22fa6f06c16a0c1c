import Foundation
import MailSyncClient
import MailSyncEngine
import MailSyncService
import TestSupport

/// A company whose administrator's mailbox is on a ``HostileIMAPServer`` (127.0.0.1, security
/// none), with one lead, `jane@client.example`, for tests of what a mail server can make the
/// sync engine do. Stop with `stop()` (server and harness).
struct HostileMailboxFixture: CompanyQueries {
    let harness: ServiceHarness
    let server: HostileIMAPServer
    let company: ServiceHarness.Company
    let mailboxID: String

    static let owner = "alice@acme.example"
    static let lead = (id: "lead-1", address: "jane@client.example")

    /// A message from the lead to the mailbox's owner.
    static func mail(uid: UInt32, subject: String? = nil) -> HostileIMAPServer.Message {
        HostileIMAPServer.Message(uid: uid, from: lead.address, to: owner, subject: subject ?? "Mail \(uid)")
    }

    static func start(mode: HostileIMAPServer.Mode, messages: [HostileIMAPServer.Message], sync: SyncSettings = ServiceHarness.syncSettings()) async throws -> HostileMailboxFixture {
        let server = try HostileIMAPServer.start(mode: mode, messages: messages)
        do {
            let harness = try await ServiceHarness.start(sync: sync)
            do {
                let company = try await harness.makeCompany(domains: ["acme.example"])
                try await SyncFixture.upsertLeads(company, [lead])
                let mailbox = try await company.admin.createMailboxConnection(
                    SyncFixture.connectRequest(email: owner, username: "alice", port: server.port, secret: "any"))
                return HostileMailboxFixture(harness: harness, server: server, company: company, mailboxID: mailbox.id)
            } catch {
                await harness.stop()
                throw error
            }
        } catch {
            server.stop()
            throw error
        }
    }

    /// Runs `body` with a started fixture and stops everything afterwards, also when it throws.
    static func with(
        mode: HostileIMAPServer.Mode, messages: [HostileIMAPServer.Message], sync: SyncSettings = ServiceHarness.syncSettings(),
        _ body: (HostileMailboxFixture) async throws -> Void
    ) async throws {
        let fixture = try await start(mode: mode, messages: messages, sync: sync)
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    func status() async throws -> MailboxStatusResponse {
        try await company.admin.getMailboxStatus(MailboxFixtures.get(mailboxID))
    }

    /// Moves the clock `seconds` ahead and runs what is due; returns how many runs.
    @discardableResult
    func advanceAndSync(seconds: Double) async -> Int {
        harness.clock.advance(seconds: seconds)
        return await harness.runSyncs()
    }

    func stop() async {
        server.stop()
        await harness.stop()
    }
}
