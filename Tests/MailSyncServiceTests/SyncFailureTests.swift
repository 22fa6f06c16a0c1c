import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncService
import MailSyncStorage
import Testing
import TestSupport

/// The sync engine when things go wrong: refused logins, servers that vanish, places under the
/// company's mailbox sync limit.
@Suite("Sync engine: failures, statuses and limits", .timeLimit(.minutes(5)))
struct SyncFailureTests {
    static let leads = [(id: "lead-1", address: "jane@client.example")]

    /// Login attempts Dovecot saw for `user` that failed (its log's `auth failed` lines).
    static func failedLogins(_ dovecot: DovecotServer) -> Int {
        dovecot.log().split(separator: "\n").filter { $0.contains("imap-login") && $0.contains("auth failed") }.count
    }

    /// The failed logins in Dovecot's log once it holds `expected` of them, or after 10 s: the
    /// login process writes its line when the connection ends, which a loaded machine delays.
    static func failedLogins(_ dovecot: DovecotServer, awaiting expected: Int) async -> Int {
        let deadline = ContinuousClock.now + .seconds(10)
        while failedLogins(dovecot) < expected, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return failedLogins(dovecot)
    }

    @Test("a wrong password gives ERROR with Dovecot's own text and the hint; a repeat raises the count of one log entry")
    func wrongPassword() async throws {
        try await SyncFixture.with(leads: Self.leads, mailboxPassword: "wrong") { fixture in
            await fixture.harness.runSyncs()
            let status = try await fixture.status()
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.serverText.contains("AUTHENTICATIONFAILED"), "\(error.serverText)")
            #expect(error.errorClass == .authentication)
            #expect(!error.fixHint.isEmpty)
            #expect(error.count == 1)
            let changed = try await fixture.events([.statusChanged])
            #expect(changed.first?.status == .error)

            // The authentication retry comes 15 minutes later and fails the same way.
            #expect(await fixture.advanceAndSync(seconds: 15 * 60 + 1) == 1)
            let log = try await fixture.errorLog()
            #expect(log.count == 1)
            #expect(log.first?.count == 2)
            #expect(log.first?.firstSeen != log.first?.lastSeen)
        }
    }

    @Test("two days of failures give CONNECTION_ISSUE and no further connection attempts (counted at the server); new credentials start again")
    func connectionIssue() async throws {
        try await SyncFixture.with(leads: Self.leads, mailboxPassword: "wrong") { fixture in
            await fixture.harness.runSyncs()
            // Step through two days an hour at a time.
            for _ in 0..<49 { await fixture.advanceAndSync(seconds: 3600) }
            let status = try await fixture.status()
            #expect(status.mailbox.status == .connectionIssue)
            let attempts = await Self.failedLogins(fixture.dovecot, awaiting: 3)
            #expect(attempts == 3, "the first login and two retries 15 minutes apart; then none: \(fixture.dovecot.log())")

            for _ in 0..<5 { await fixture.advanceAndSync(seconds: 86_400) }
            #expect(Self.failedLogins(fixture.dovecot) == attempts)
            #expect(try await fixture.status().mailbox.status == .connectionIssue)
            await #expect { _ = try await fixture.company.admin.syncNow({ var r = SyncNowRequest(); r.mailboxId = fixture.mailboxID; return r }()) } throws: { error in
                (error as? RPCError)?.code == .failedPrecondition
            }

            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = fixture.mailboxID
            update.secret = SyncFixture.password
            _ = try await fixture.company.admin.updateMailboxCredentials(update)
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Finally", messageID: "f@c")
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(try await fixture.timeline("lead-1").map(\.subject) == ["Finally"])
        }
    }

    @Test("a mailbox beyond the company's sync limit is PENDING and starts syncing by itself when a place opens")
    func pendingPromotion() async throws {
        try await SyncFixture.with(
            leads: Self.leads, dovecotUsers: [(name: "alice", password: SyncFixture.password), (name: "carol", password: "pw2")]
        ) { fixture in
            try await MailboxFixtures.setMailboxSyncLimit(fixture.harness, fixture.company, 1)
            _ = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "carol", role: .salesperson)
            let carol = try await fixture.company.admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "carol@acme.example", username: "carol", port: fixture.dovecot.port, secret: "pw2", userID: "carol"))
            #expect(carol.status == .pending)
            try await fixture.dovecot.append(
                user: "carol", message: "From: jane@client.example\r\nTo: carol@acme.example\r\nSubject: For Carol\r\nMessage-ID: <carol@c>\r\n\r\nhi\r\n",
                date: fixture.daysAgo(1))
            #expect(await fixture.harness.runSyncs() == 1)  // only alice's
            #expect(try await fixture.timeline("lead-1").isEmpty)

            _ = try await fixture.company.admin.disableMailbox(MailboxFixtures.disable(fixture.mailboxID, .keep))
            #expect(try await fixture.company.admin.getMailboxStatus(MailboxFixtures.get(carol.id)).mailbox.status == .enabled)
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(try await fixture.timeline("lead-1").map(\.subject) == ["For Carol"])
        }
    }

    @Test("Dovecot killed in the middle of a sync and restarted: nothing lost, nothing duplicated")
    func serverVanishes() async throws {
        var sync = ServiceHarness.syncSettings()
        sync.headersPerBatch = 50
        try await SyncFixture.with(leads: Self.leads, sync: sync) { fixture in
            let total = 1500
            for i in 0..<total {
                let from = i % 3 == 0 ? "jane@client.example" : "other\(i)@nowhere.example"
                try await fixture.dovecot.append(
                    user: "alice",
                    message: "From: \(from)\r\nTo: \(SyncFixture.owner)\r\nSubject: Mail \(i)\r\nMessage-ID: <k\(i)@c>\r\n\r\nbody \(i)\r\n",
                    date: fixture.daysAgo(1))
            }
            let expected = (0..<total).filter { $0 % 3 == 0 }.count
            let run = Task { await fixture.harness.runSyncs() }
            // Wait for some batches to commit, then pull the plug.
            try await waitUntil(.seconds(60)) { try await fixture.count("SELECT count(*) FROM mailbox_messages") >= 20 }
            await fixture.dovecot.kill()
            _ = await run.value
            let partial = try await fixture.count("SELECT count(*) FROM mailbox_messages")
            #expect(partial < Int64(expected), "the kill came too late to test anything")
            #expect(try await fixture.status().mailbox.status == .error)
            #expect(try await fixture.errorLog().first?.errorClass == .temporary)

            try await fixture.dovecot.restart()
            // The temporary error is retried after a minute.
            await fixture.advanceAndSync(seconds: 61)
            #expect(try await fixture.status().mailbox.status == .enabled)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == Int64(expected))
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == Int64(expected))
            #expect(try await fixture.count("SELECT count(DISTINCT message_key) FROM timeline_entries") == Int64(expected))
        }
    }
}
