import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import TestSupport
import Testing

/// `TestMailboxConnection` against a real Dovecot (plain and TLS), a closed port and a tarpit:
/// each step's outcome, the failing step's own words and fix, and nothing written.
@Suite("TestMailboxConnection", .timeLimit(.minutes(5)))
struct TestMailboxConnectionTests {
    static func test(_ client: MailSync.Client, _ mailboxID: String) async throws -> TestMailboxConnectionResponse {
        var request = TestMailboxConnectionRequest()
        request.mailboxId = mailboxID
        return try await client.testMailboxConnection(request)
    }

    static func outcomes(_ response: TestMailboxConnectionResponse) -> [ConnectionTestOutcome] { response.steps.map(\.outcome) }

    @Test("a working mailbox: every step passes, the INBOX's count is shown, and nothing is written")
    func working() async throws {
        try await SyncFixture.with { fixture in
            try await fixture.deliver(from: "someone@client.example", to: SyncFixture.owner, subject: "one")
            try await fixture.deliver(from: "someone@client.example", to: SyncFixture.owner, subject: "two")
            let eventsBefore = try await fixture.count("SELECT count(*) FROM sync_events")
            let response = try await Self.test(fixture.company.admin, fixture.mailboxID)
            #expect(response.ok)
            #expect(response.steps.map(\.name) == [.resolve, .connect, .tls, .login, .list, .selectInbox])
            #expect(Self.outcomes(response) == [.ok, .ok, .notApplicable, .ok, .ok, .ok])
            #expect(response.steps[5].detail == "2 messages in the INBOX", "\(response.steps[5])")
            #expect(response.steps[4].detail.contains("INBOX found"))
            // Nothing written: no event, no error, no mail, the status as it was; Dovecot's flags untouched.
            #expect(try await fixture.count("SELECT count(*) FROM sync_events") == eventsBefore)
            #expect(try await fixture.count("SELECT count(*) FROM error_log") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 0)
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(try await fixture.status().mailbox.lastSyncedAt == nil)
        }
    }

    @Test("a wrong password: LOGIN fails with Dovecot's own words and the fix; LIST and INBOX skipped; the mailbox's status untouched")
    func wrongPassword() async throws {
        try await SyncFixture.with(mailboxPassword: "not-the-password") { fixture in
            let response = try await Self.test(fixture.company.admin, fixture.mailboxID)
            #expect(!response.ok)
            #expect(Self.outcomes(response) == [.ok, .ok, .notApplicable, .failed, .skipped, .skipped])
            let login = response.steps[3]
            #expect(login.detail.contains("AUTHENTICATIONFAILED"), "\(login.detail)")
            #expect(login.errorClass == .authentication)
            #expect(!login.hint.isEmpty)
            #expect(!login.detail.contains("not-the-password") && !login.hint.contains("not-the-password"))
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(try await fixture.count("SELECT count(*) FROM error_log") == 0)
        }
    }

    @Test("nothing listening: CONNECT fails with the system's words; a salesperson may not test the administrator's mailbox")
    func closedPort() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        // A port that was free a moment ago: nothing listens there now.
        let port = try DovecotServer.freePort()
        let mailbox = try await company.admin.createMailboxConnection(
            SyncFixture.connectRequest(email: "closed@acme.example", username: "closed", port: port, secret: "x"))
        let response = try await Self.test(company.admin, mailbox.id)
        #expect(Self.outcomes(response) == [.ok, .failed, .notApplicable, .skipped, .skipped, .skipped])
        #expect(response.steps[1].detail.contains("refused"), "\(response.steps[1].detail)")
        #expect(response.steps[1].errorClass == .temporary)

        var user = CreateUserRequest()
        user.id = "seller"
        user.name = "Seller"
        user.email = "seller@acme.example"
        user.role = .salesperson
        _ = try await company.admin.createUser(user)
        let seller = harness.client(key: try await harness.key(company: company.id, user: "seller"))
        await #expect { _ = try await Self.test(seller, mailbox.id) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        await #expect { _ = try await Self.test(company.admin, "no-such-mailbox") } throws: { ($0 as? RPCError)?.code == .notFound }
        await harness.stop()
    }

    @Test("one test per mailbox at a time: a second while the first waits on a silent server is aborted, and allowed after")
    func oneAtATime() async throws {
        var sync = ServiceHarness.syncSettings()
        // Long enough that the first test is still waiting when the second arrives on a loaded
        // machine (3 s was once not: the first had already failed, so the second was allowed).
        sync.connectTimeout = .seconds(10)
        let harness = try await ServiceHarness.start(sync: sync)
        let tarpit = try await TarpitServer.start()
        let company = try await harness.makeCompany()
        let mailbox = try await company.admin.createMailboxConnection(
            SyncFixture.connectRequest(email: "slow@acme.example", username: "slow", port: tarpit.port, secret: "x"))
        let first = Task { try await Self.test(company.admin, mailbox.id) }
        #expect(await tarpit.wait { $0.accepted == 1 })
        await #expect { _ = try await Self.test(company.admin, mailbox.id) } throws: { ($0 as? RPCError)?.code == .aborted }
        let answer = try await first.value
        // Connected, then no greeting within the connect timeout: the login step timed out.
        #expect(Self.outcomes(answer) == [.ok, .ok, .notApplicable, .failed, .skipped, .skipped], "\(answer.steps)")
        #expect(tarpit.accepted == 1, "the refused test opened no connection")
        _ = try? await Self.test(company.admin, mailbox.id)
        #expect(tarpit.accepted == 2)
        await tarpit.stop()
        await harness.stop()
    }

    @Test("TLS: an untrusted certificate fails the TLS step; trusted through imapCAFile, every step passes", arguments: [false, true])
    func tls(trusted: Bool) async throws {
        var options = DovecotServer.Options()
        options.tls = .required
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")], options: options) { dovecot in
            var sync = ServiceHarness.syncSettings()
            if trusted { sync.caFile = dovecot.certificatePath }
            let harness = try await ServiceHarness.start(sync: sync)
            let company = try await harness.makeCompany()
            var request = SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: try #require(dovecot.tlsPort), secret: "s3cret")
            request.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(try #require(dovecot.tlsPort)), .tls)
            let mailbox = try await company.admin.createMailboxConnection(request)
            let response = try await Self.test(company.admin, mailbox.id)
            if trusted {
                #expect(Self.outcomes(response) == [.ok, .ok, .ok, .ok, .ok, .ok], "\(response.steps)")
            } else {
                #expect(Self.outcomes(response) == [.ok, .ok, .failed, .skipped, .skipped, .skipped], "\(response.steps)")
                #expect(response.steps[2].errorClass == .configuration || response.steps[2].errorClass == .temporary)
                #expect(response.steps[2].detail.lowercased().contains("certificate"), "\(response.steps[2].detail)")
            }
            await harness.stop()
        }
    }
}
