import Foundation
import MailSyncClient
@testable import MailSyncEngine
@testable import MailSyncService
import MailSyncStorage
import Testing
import TestSupport

/// IMAP IDLE in the sync engine, against a real Dovecot (which offers IDLE), with the server's
/// background loop on and polling an hour away on a clock that never moves: only a watcher can
/// make a run happen after the first one.
@Suite("IDLE watchers", .timeLimit(.minutes(5)))
struct IdleSyncTests {
    /// Dovecot notices new maildir files through inotify; the check interval is its fallback.
    static let dovecotOptions = DovecotServer.Options(extraConfig: "mailbox_idle_check_interval = 1 secs\n")
    static let lead = (id: "lead-1", address: "lead@client.example")

    static func settings(_ change: (inout SyncSettings) -> Void = { _ in }) -> SyncSettings {
        var sync = ServiceHarness.syncSettings()
        sync.runsInBackground = true
        sync.idleEnabled = true
        sync.defaultPollInterval = .seconds(3600)
        change(&sync)
        return sync
    }

    /// A company with `users.count` mailboxes, one per Dovecot user (`u0`, `u1`, …; the first
    /// is the administrator's), and the lead.
    struct Setup: CompanyQueries {
        let harness: ServiceHarness
        let dovecot: DovecotServer
        let company: ServiceHarness.Company
        let mailboxIDs: [String]
        var mailboxID: String { mailboxIDs[0] }
        var scheduler: SyncScheduler { harness.server.scheduler! }

        func deliver(to user: String = "u0", subject: String) async throws {
            let text = "From: \(IdleSyncTests.lead.address)\r\nTo: \(user)@acme.example\r\nSubject: \(subject)\r\n"
                + "Date: Mon, 21 Sep 2026 10:00:00 +0000\r\nMessage-ID: <\(UUID().uuidString)@client.example>\r\n\r\nHello.\r\n"
            // Arrived within the backfill window of the harness's clock.
            try await dovecot.append(user: user, message: text, date: Date(timeIntervalSince1970: harness.clock.now().secondsSinceEpoch - 3600))
        }

        /// Waits until every mailbox has had a successful run.
        func firstRunsDone() async throws {
            try await waitUntil(.seconds(30)) {
                let ok = Set(await scheduler.recentRuns.filter(\.succeeded).map(\.mailboxID))
                return mailboxIDs.allSatisfy(ok.contains)
            }
        }

        func stop() async {
            await harness.stop()
            await dovecot.stop()
        }
    }

    static func with(mailboxes: Int = 1, sync: SyncSettings, _ body: (Setup) async throws -> Void) async throws {
        let users = (0..<mailboxes).map { (name: "u\($0)", password: "pw") }
        let dovecot = try await DovecotServer.start(users: users, options: dovecotOptions)
        let harness: ServiceHarness
        do {
            harness = try await ServiceHarness.start(sync: sync)
        } catch {
            await dovecot.stop()
            throw error
        }
        let setup: Setup
        do {
            let company = try await harness.makeCompany(domains: ["acme.example"])
            try await SyncFixture.upsertLeads(company, [lead])
            try await MailboxFixtures.setMailboxSyncLimit(harness, company, UInt32(mailboxes + 1))
            var ids: [String] = []
            for (index, user) in users.enumerated() {
                var userID = ""
                if index > 0 {
                    userID = "user-\(index)"
                    _ = try await MailboxFixtures.makeUser(harness, company, id: userID, role: .salesperson)
                }
                let mailbox = try await company.admin.createMailboxConnection(SyncFixture.connectRequest(
                    email: "\(user.name)@acme.example", username: user.name, port: dovecot.port, secret: user.password, userID: userID))
                ids.append(mailbox.id)
            }
            setup = Setup(harness: harness, dovecot: dovecot, company: company, mailboxIDs: ids)
        } catch {
            await harness.stop()
            await dovecot.stop()
            throw error
        }
        do {
            try await body(setup)
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test("a message appended to the INBOX is on the lead's timeline within seconds, once, with polling an hour away")
    func newMailArrivesWithinSeconds() async throws {
        try await Self.with(sync: Self.settings()) { setup in
            try await setup.firstRunsDone()
            try await waitUntil(.seconds(15)) { await setup.scheduler.isWatched(tenant: try #require(TenantID(validating: setup.company.id)), mailboxID: setup.mailboxID) }
            #expect(try await setup.timeline(Self.lead.id).isEmpty)

            try await setup.deliver(subject: "first")
            let delivered = ContinuousClock.now
            try await waitUntil(.seconds(15)) { try await setup.timeline(Self.lead.id).count == 1 }
            #expect(ContinuousClock.now - delivered < .seconds(15))

            // Re-IDLEd after the wake: a second message arrives the same way.
            try await setup.deliver(subject: "second")
            try await waitUntil(.seconds(15)) { try await setup.timeline(Self.lead.id).count == 2 }
            // Exactly once: one more run after everything (wakes in flight included) records nothing more.
            let tenant = try #require(TenantID(validating: setup.company.id))
            let runs = await setup.scheduler.recentRuns.count
            await setup.scheduler.wake(tenant: tenant, mailboxID: setup.mailboxID)
            try await waitUntil(.seconds(15)) { await setup.scheduler.recentRuns.count > runs }
            #expect(try await setup.count("SELECT COUNT(*) FROM mailbox_messages") == 2)
            #expect(try await setup.count("SELECT COUNT(*) FROM timeline_entries") == 2)
            #expect(try await setup.timeline(Self.lead.id).map(\.subject).sorted() == ["first", "second"])
            #expect(setup.harness.clock.now().secondsSinceEpoch == 1_790_000_000, "the clock never moved: no poll was due")
        }
    }

    @Test("each bound set to 1 with two mailboxes of one company on one server: one watcher, the other mailbox polls", arguments: ["total", "company", "server"])
    func boundHolds(_ bound: String) async throws {
        let sync = Self.settings {
            switch bound {
            case "total": $0.maxIdleConnections = 1
            case "company": $0.maxIdleConnectionsPerCompany = 1
            default: $0.maxIdleConnectionsPerServer = 1
            }
        }
        try await Self.with(mailboxes: 2, sync: sync) { setup in
            try await setup.firstRunsDone()
            // Watchers are decided before a run is listed: both decisions are made.
            #expect(await setup.scheduler.idleWatcherCount == 1)
            let tenant = try #require(TenantID(validating: setup.company.id))
            var watched: [String] = []
            for id in setup.mailboxIDs where await setup.scheduler.isWatched(tenant: tenant, mailboxID: id) { watched.append(id) }
            #expect(watched.count == 1)
            // The unwatched mailbox still polls: moving the clock past the interval syncs its mail.
            let unwatchedIndex = setup.mailboxIDs.firstIndex { !watched.contains($0) } ?? 1
            try await setup.deliver(to: "u\(unwatchedIndex)", subject: "polled")
            setup.harness.clock.advance(seconds: 3700)
            try await waitUntil(.seconds(15)) { try await setup.timeline(Self.lead.id).count == 1 }
            #expect(await setup.scheduler.idleWatcherCount == 1)
        }
    }

    @Test("IDLE is off by default: no watcher after a successful run")
    func offByDefault() async throws {
        try await Self.with(sync: Self.settings { $0.idleEnabled = false }) { setup in
            try await setup.firstRunsDone()
            #expect(await setup.scheduler.idleWatcherCount == 0)
        }
    }

    @Test("disabling the mailbox ends its watcher; the watcher gauge follows")
    func disableEndsWatcher() async throws {
        try await Self.with(sync: Self.settings()) { setup in
            try await setup.firstRunsDone()
            try await waitUntil(.seconds(15)) { await setup.scheduler.idleWatcherCount == 1 }
            let metrics = setup.harness.server.observability.metrics
            #expect(PrometheusText.value(String(decoding: metrics.exposition(), as: UTF8.self), ServiceMetrics.idleWatchersLabel) == 1)
            var request = DisableMailboxRequest()
            request.mailboxId = setup.mailboxID
            request.previousCommunication = .keep
            _ = try await setup.company.admin.disableMailbox(request)
            try await waitUntil(.seconds(15)) { await setup.scheduler.idleWatcherCount == 0 }
            #expect(PrometheusText.value(String(decoding: metrics.exposition(), as: UTF8.self), ServiceMetrics.idleWatchersLabel) == 0)
            #expect(await setup.scheduler.isWatched(tenant: try #require(TenantID(validating: setup.company.id)), mailboxID: setup.mailboxID) == false)
        }
    }

    @Test("Dovecot killed and restarted: the watcher connects again after its backoff, and new mail arrives within seconds")
    func reconnectsAfterServerRestart() async throws {
        try await Self.with(sync: Self.settings()) { setup in
            try await setup.firstRunsDone()
            // Killed only once the run the watcher asked for on connecting is over: a run that
            // fails ends the watcher (the mailbox then polls on its retry schedule, and is
            // watched again after a success), which is not what this test is about.
            try await waitUntil(.seconds(15)) {
                let runs = await setup.scheduler.recentRuns
                return runs.count >= 2 && runs.allSatisfy(\.succeeded)
            }
            try await waitUntil(.seconds(15)) { await setup.scheduler.idlingWatcherCount == 1 }
            await setup.dovecot.kill()
            try await setup.dovecot.restart()
            try await setup.deliver(subject: "after the restart")
            // Backoff 1 s, 2 s, 4 s while the server is down; then login, EXAMINE, a wake.
            try await waitUntil(.seconds(30)) { try await setup.timeline(Self.lead.id).count == 1 }
            try await waitUntil(.seconds(15)) { await setup.scheduler.idlingWatcherCount == 1 }
            #expect(await setup.scheduler.idleWatcherCount == 1)
        }
    }

    @Test("a server that does not advertise IDLE: the watcher ends after one look, the mailbox keeps polling and is not watched again")
    func serverWithoutIdleFallsBack() async throws {
        var sync = Self.settings()
        sync.runsInBackground = false
        try await HostileMailboxFixture.with(mode: .wellBehaved, messages: [], sync: sync) { fixture in
            let scheduler = try #require(fixture.harness.server.scheduler)
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(fixture.server.logins >= 1)
            // The watcher's one login, its CAPABILITY without IDLE, and its end.
            try await waitUntil(.seconds(15)) {
                let watchers = await scheduler.idleWatcherCount
                return fixture.server.logins == 2 && watchers == 0
            }
            #expect(await fixture.advanceAndSync(seconds: 3700) == 1)
            #expect(await scheduler.recentRuns.last?.succeeded == true)
            #expect(await scheduler.idleWatcherCount == 0)
            #expect(fixture.server.logins == 3, "only the poll logged in again")
        }
    }

    @Test("after a restart, an ENABLED mailbox is watched at once, without waiting for its next poll")
    func restartResumesWatching() async throws {
        let sync = Self.settings()
        try await Self.with(sync: sync) { setup in
            try await setup.firstRunsDone()
            try await waitUntil(.seconds(15)) { await setup.scheduler.idlingWatcherCount == 1 }
            await setup.harness.stop(keepData: true)

            // Same data, same clock reading: the next poll is an hour away.
            let restarted = try await ServiceHarness.start(dataDirectory: setup.harness.dataDirectory, sync: sync)
            do {
                let scheduler = try #require(restarted.server.scheduler)
                try await waitUntil(.seconds(15)) { await scheduler.idlingWatcherCount == 1 }
                try await setup.deliver(subject: "after the restart")
                var request = ListLeadTimelineRequest()
                request.leadId = Self.lead.id
                let admin = restarted.client(key: setup.company.adminKey)
                try await waitUntil(.seconds(15)) { try await admin.listLeadTimeline(request).entries.count == 1 }
            } catch {
                await restarted.stop()
                throw error
            }
            await restarted.stop()
        }
    }
}
