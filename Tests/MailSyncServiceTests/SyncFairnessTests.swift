import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import NIOCore
import Testing
import TestSupport

/// Slow mail servers cannot take the sync engine from other companies: every command has an
/// absolute deadline, a run has a budget, and slots are shared fairly between companies.
@Suite("Sync engine: fair sync against slow mail servers", .timeLimit(.minutes(3)))
struct SyncFairnessTests {
    struct Hostile: CompanyQueries {
        let harness: ServiceHarness
        let company: ServiceHarness.Company
        let mailboxID: String
    }

    /// Connects `count` mailboxes of one company to `server` (their users made through the API).
    static func connectSlowMailboxes(_ harness: ServiceHarness, _ company: ServiceHarness.Company, server: HostileIMAPServer, count: Int) async throws -> [String] {
        try await MailboxFixtures.setMailboxSyncLimit(harness, company, UInt32(count + 1))
        var ids: [String] = []
        for index in 0..<count {
            let user = "slow-\(index)"
            _ = try await MailboxFixtures.makeUser(harness, company, id: user, role: .salesperson)
            let mailbox = try await company.admin.createMailboxConnection(SyncFixture.connectRequest(
                email: "\(user)@hostile.example", username: user, port: server.port, secret: "pw", userID: user))
            ids.append(mailbox.id)
        }
        return ids
    }

    @Test("a command's deadline is absolute: a server trickling a byte every 200 ms is cut at the command timeout")
    func absoluteCommandDeadline() async throws {
        let slow = try HostileIMAPServer.start(mode: .slowDrip(interval: .milliseconds(200)))
        var sync = ServiceHarness.syncSettings()
        sync.commandTimeout = .seconds(2)
        let harness = try await ServiceHarness.start(sync: sync)
        do {
            let company = try await harness.makeCompany()
            let id = try await Self.connectSlowMailboxes(harness, company, server: slow, count: 1)[0]
            let started = ContinuousClock.now
            #expect(await harness.runSyncs() == 1)
            #expect(ContinuousClock.now - started < .seconds(30))
            let status = try await Hostile(harness: harness, company: company, mailboxID: id).errorLog()
            let entry = try #require(status.first)
            #expect(entry.errorClass == .temporary)
            #expect(entry.serverText.contains("127.0.0.1:\(slow.port)"), "\(entry.serverText)")
            #expect(entry.serverText.contains("within 2"), "\(entry.serverText)")
        } catch {
            Issue.record(error)
        }
        slow.stop()
        await harness.stop()
    }

    @Test("a run over its budget stops with a temporary error naming the server and is retried later, not at once")
    func runBudget() async throws {
        let slow = try HostileIMAPServer.start(mode: .slowDrip(interval: .milliseconds(200)))
        var sync = ServiceHarness.syncSettings()
        sync.runBudget = .seconds(2)
        sync.commandTimeout = .seconds(120)
        let harness = try await ServiceHarness.start(sync: sync)
        do {
            let company = try await harness.makeCompany()
            let id = try await Self.connectSlowMailboxes(harness, company, server: slow, count: 1)[0]
            let started = ContinuousClock.now
            #expect(await harness.runSyncs() == 1)
            #expect(ContinuousClock.now - started < .seconds(30))
            let queries = Hostile(harness: harness, company: company, mailboxID: id)
            let entry = try #require(try await queries.errorLog().first)
            #expect(entry.errorClass == .temporary)
            #expect(entry.serverText.contains("127.0.0.1:\(slow.port)"), "\(entry.serverText)")
            #expect(entry.serverText.lowercased().contains("budget"), "\(entry.serverText)")
            #expect(!entry.fixHint.isEmpty)
            let run = try #require(await harness.server.scheduler?.recentRuns.last)
            #expect(run.overBudget)
            // Backoff: not due again a second later.
            harness.clock.advance(seconds: 1)
            #expect(await harness.runSyncs() == 0)
        } catch {
            Issue.record(error)
        }
        slow.stop()
        await harness.stop()
    }

    /// As many slow mailboxes as there are slots, all of one company, all due: without a share
    /// per company they would hold every slot for the whole run budget (120 s here) and the
    /// other company's new mailbox would wait that long. With it, that mailbox's first sync is
    /// done within 30 s (it takes a second or two alone).
    @Test("a company whose mail server trickles cannot hold every slot: another company's first sync completes meanwhile")
    func fairShare() async throws {
        let slow = try HostileIMAPServer.start(mode: .slowDrip(interval: .seconds(1)))
        let dovecot = try await DovecotServer.start(users: [(name: "alice", password: SyncFixture.password)])
        var sync = ServiceHarness.syncSettings()
        sync.runsInBackground = true
        sync.maxConcurrentSyncs = 4
        sync.runBudget = .seconds(120)
        sync.commandTimeout = .seconds(120)
        let harness = try await ServiceHarness.start(sync: sync)
        do {
            let hostile = try await harness.makeCompany(name: "Hostile")
            _ = try await Self.connectSlowMailboxes(harness, hostile, server: slow, count: sync.maxConcurrentSyncs)
            // The hostile runs start and hold their slots (the company's share: half of them).
            try await waitUntil(.seconds(30)) { slow.connectionsAccepted >= sync.perCompanyLimit }

            let company = try await harness.makeCompany(domains: ["acme.example"])
            try await SyncFixture.upsertLeads(company, [(id: "lead-1", address: "jane@client.example")])
            _ = try await dovecot.append(
                user: "alice", folder: "INBOX",
                message: "From: jane@client.example\r\nTo: \(SyncFixture.owner)\r\nSubject: Fair\r\nMessage-ID: <fair@c>\r\n\r\nHi\r\n",
                date: Date(timeIntervalSince1970: harness.clock.now().secondsSinceEpoch - 86_400))
            let mailbox = try await company.admin.createMailboxConnection(
                SyncFixture.connectRequest(email: SyncFixture.owner, username: "alice", port: dovecot.port, secret: SyncFixture.password))
            let queries = Hostile(harness: harness, company: company, mailboxID: mailbox.id)
            let started = ContinuousClock.now
            try await waitUntil(.seconds(30)) { (try? await queries.timeline("lead-1").map(\.subject)) == ["Fair"] }
            #expect(ContinuousClock.now - started < .seconds(30))
            // The hostile company never held more than its share.
            #expect(slow.connectionsAccepted == sync.perCompanyLimit)
        } catch {
            Issue.record(error)
        }
        slow.stop()  // first: its connections close, so the runs still on it end at once
        await harness.stop()
        await dovecot.stop()
    }
}
