import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncService
import MailSyncStorage
import Testing
import TestSupport

/// The sync engine against a real Dovecot on 127.0.0.1: what gets recorded, and when.
@Suite("Sync engine: recording mail", .timeLimit(.minutes(5)))
struct SyncEngineTests {
    static let leads = [(id: "lead-1", address: "Jane@Client.example"), (id: "lead-2", address: "bob@other.example")]

    @Test("first sync: mail from leads within the backfill window is recorded with body; older or unmatched mail is not stored")
    func firstSync() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await fixture.deliver(from: "Jane <jane@client.example>", to: SyncFixture.owner, subject: "Old news", date: fixture.daysAgo(40))
            try await fixture.deliver(from: "Jane <jane@client.example>", to: SyncFixture.owner, subject: "Proposal", body: "Numbers attached.\r\n", messageID: "p1@client.example")
            try await fixture.deliver(from: "stranger@nowhere.example", to: SyncFixture.owner, subject: "Spam", messageID: "s1@nowhere.example")
            try await fixture.deliver(from: "bob@other.example", to: SyncFixture.owner, cc: "jane@client.example", subject: "Both of us", messageID: "b1@other.example")

            #expect(await fixture.harness.runSyncs() == 1)
            let status = try await fixture.status()
            #expect(status.mailbox.status == .enabled)
            #expect(status.mailbox.lastSyncedAt == fixture.harness.clock.now())
            #expect(status.mailbox.syncedToday == 2)

            let jane = try await fixture.timeline("lead-1")
            #expect(Set(jane.map(\.subject)) == ["Proposal", "Both of us"])
            let proposal = try #require(jane.first { $0.subject == "Proposal" })
            #expect(proposal.direction == .received)
            #expect(proposal.bodyText == "Numbers attached.\r\n")
            #expect(proposal.participants.map(\.address) == ["jane@client.example", SyncFixture.owner])
            #expect(proposal.participants.first?.displayName == "Jane")
            #expect(try await fixture.timeline("lead-2").map(\.subject) == ["Both of us"])
            // Unmatched mail leaves nothing behind: two messages stored, no more.
            #expect(try await fixture.count("SELECT count(*) FROM messages") == 2)
            let completed = try await fixture.events([.syncCompleted])
            #expect(completed.first?.emailsSynced == 2)
        }
    }

    @Test("incremental sync records exactly the new mail; a poll with nothing new records nothing")
    func incremental() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "One", messageID: "1@c")
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("lead-1").count == 1)

            #expect(await fixture.advanceAndSync(seconds: 400) == 1)
            #expect(try await fixture.timeline("lead-1").count == 1)
            // A poll that finds nothing: LIST and one pipelined STATUS of both folders.
            let idle = try #require(await fixture.harness.server.scheduler!.recentRuns.last)
            #expect(idle.succeeded && idle.recorded == 0 && idle.roundTrips <= 2, "\(idle)")

            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Two", messageID: "2@c")
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Three", messageID: "3@c")
            // Not due yet: the company's poll interval (Essential: 5 minutes) has not passed.
            #expect(await fixture.harness.runSyncs() == 0)
            #expect(await fixture.advanceAndSync(seconds: 400) == 1)
            #expect(try await fixture.timeline("lead-1").map(\.subject).sorted() == ["One", "Three", "Two"])
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == 3)
        }
    }

    @Test("the sent folder is found by SPECIAL-USE and its mail recorded as sent")
    func sentFolder() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await fixture.deliver(from: SyncFixture.owner, to: "Jane <jane@client.example>", subject: "Our offer", messageID: "offer@acme", folder: "Sent")
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Re: Our offer", messageID: "re@client", folder: "INBOX")
            await fixture.harness.runSyncs()
            let entries = try await fixture.timeline("lead-1")
            #expect(Dictionary(uniqueKeysWithValues: entries.map { ($0.subject, $0.direction) }) == ["Our offer": .sent, "Re: Our offer": .received])
        }
    }

    @Test("in-house mail is skipped while the company prevents it, and recorded once allowed", arguments: [true, false])
    func inHouse(prevent: Bool) async throws {
        try await SyncFixture.with(leads: [(id: "colleague-lead", address: "colleague@acme.example")]) { fixture in
            var settings = UpdateCompanySettingsRequest()
            settings.preventInternalEmailSync = prevent
            _ = try await fixture.company.admin.updateCompanySettings(settings)
            try await fixture.deliver(from: "colleague@acme.example", to: SyncFixture.owner, subject: "Lunch?", messageID: "lunch@acme")
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("colleague-lead").count == (prevent ? 0 : 1))
        }
    }

    @Test("8-bit and encoded headers are decoded; a lead's mail without To is recorded; mail naming nobody is counted as unmatchable, not an error")
    func headers() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await fixture.deliver(from: "=?UTF-8?Q?Jan=C3=A9?= <jane@client.example>", to: SyncFixture.owner, subject: "=?UTF-8?B?R3LDvMOfZSDigJQg5pel5pys?=", messageID: "enc@c")
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Café – Köln", messageID: "raw@c")
            let noTo = "From: jane@client.example\r\nSubject: no recipients\r\nMessage-ID: <noto@c>\r\n\r\nbody\r\n"
            try await fixture.dovecot.append(user: "alice", message: noTo, date: fixture.daysAgo(1))
            let undisclosed = "From: jane@client.example\r\nTo: undisclosed-recipients:;\r\nSubject: bcc to you\r\nMessage-ID: <bcc@c>\r\n\r\nbody\r\n"
            try await fixture.dovecot.append(user: "alice", message: undisclosed, date: fixture.daysAgo(1))
            let nobody = "Subject: nobody at all\r\nMessage-ID: <nobody@c>\r\n\r\nbody\r\n"
            try await fixture.dovecot.append(user: "alice", message: nobody, date: fixture.daysAgo(1))
            let strangers = (0..<250).map { "s\($0)@strangers.example" }.joined(separator: ", ")
            let crowded = "From: \(SyncFixture.owner)\r\nTo: \(strangers), jane@client.example\r\nSubject: to a crowd\r\nMessage-ID: <crowd@c>\r\n\r\nbody\r\n"
            try await fixture.dovecot.append(user: "alice", message: crowded, date: fixture.daysAgo(1))
            await fixture.harness.runSyncs()

            let entries = try await fixture.timeline("lead-1")
            #expect(Set(entries.map(\.subject)) == ["Grüße — 日本", "Café – Köln", "no recipients", "bcc to you", "to a crowd"])
            let crowd = try #require(entries.first { $0.subject == "to a crowd" })
            #expect(crowd.participants.contains { $0.address == "jane@client.example" }, "the lead listed 251st is shown")
            #expect(crowd.participants.count <= 202)
            #expect(entries.first { $0.subject == "bcc to you" }?.direction == .received)
            #expect(entries.first { $0.subject == "Grüße — 日本" }?.participants.first?.displayName == "Jané")
            let status = try await fixture.status()
            #expect(status.mailbox.status == .enabled)
            #expect(try await fixture.errorLog().isEmpty)
            let completed = try #require(try await fixture.events([.syncCompleted]).first)
            #expect(completed.detail.contains("1 naming neither a sender nor a recipient could not be matched"), "\(completed.detail)")
        }
    }

    /// Sets the company's own synced-emails-per-user-per-day limit (as a plan cap would).
    static func setDailyCap(_ fixture: SyncFixture, _ cap: UInt32) async throws {
        var get = GetCompanyRequest()
        get.companyId = fixture.company.id
        var limits = SetCompanyLimitsRequest()
        limits.limits = try await fixture.harness.operatorClient.getCompany(get).limits
        limits.limits.syncedEmailsPerUserPerDay = cap
        _ = try await fixture.company.admin.setCompanyLimits(limits)
    }

    @Test("CRM Free's own 100-a-day cap (no company limit set) defers the 101st email to the next day; none is lost")
    func dailyCap() async throws {
        try await SyncFixture.with(plan: .crmFree, leads: Self.leads) { fixture in
            for i in 0..<101 {
                try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Mail \(i)", messageID: "m\(i)@c",
                                          date: fixture.daysAgo(2 - Double(i) / 1000))
            }
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("lead-1").count == 100)
            let status = try await fixture.status()
            #expect(status.mailbox.syncedToday == 100, "\(status.mailbox.status) \(status.lastError.map { $0.serverText } ?? "-")")
            let completed = try #require(try await fixture.events([.syncCompleted]).first)
            #expect(completed.detail.contains("daily limit"), "\(completed.detail)")

            // Polls later the same day record nothing more.
            #expect(await fixture.advanceAndSync(seconds: 3600) == 0)
            #expect(try await fixture.timeline("lead-1").count == 100)
            // The next day (UTC, the company's zone) the 101st arrives.
            await fixture.advanceAndSync(seconds: 86_400)
            let all = try await fixture.timeline("lead-1")
            #expect(all.count == 101)
            #expect(Set(all.map(\.subject)).count == 101)
        }
    }

    @Test("the cap reached in one batch while later batches are in flight: they write nothing, and the deferred mail comes on later days, none lost or doubled")
    func dailyCapAcrossBatches() async throws {
        var sync = ServiceHarness.syncSettings()
        sync.headersPerBatch = 10
        try await SyncFixture.with(leads: Self.leads, sync: sync) { fixture in
            try await Self.setDailyCap(fixture, 25)
            // 120 messages in 12 batches; every third is a lead's, so each batch starts with mail
            // the sync skips: a batch after the cap that wrote its cursor would skip deferred mail.
            for i in 0..<120 {
                let from = i % 3 == 0 ? "jane@client.example" : "stranger\(i)@nowhere.example"
                try await fixture.deliver(from: from, to: SyncFixture.owner, subject: "Mail \(i)", messageID: "cap\(i)@c",
                                          date: fixture.daysAgo(2 - Double(i) / 1000))
            }
            await fixture.harness.runSyncs()
            let first = try await fixture.timeline("lead-1").map(\.subject)
            #expect(first.count == 25)
            #expect(Set(first) == Set((0..<25).map { "Mail \($0 * 3)" }), "the oldest 25, in UID order")
            #expect(try await fixture.status().mailbox.syncedToday == 25)
            await fixture.advanceAndSync(seconds: 86_400)
            let all = try await fixture.timeline("lead-1")
            #expect(all.count == 40)
            #expect(Set(all.map(\.subject)) == Set((0..<40).map { "Mail \($0 * 3)" }))
            #expect(try await fixture.count("SELECT count(*) FROM messages WHERE raw_zlib IS NULL") == 0)
        }
    }

    @Test("a UIDVALIDITY reset (the folder recreated) rescans without duplicating anything")
    func uidValidityReset() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            for i in 0..<5 {
                try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Mail \(i)", messageID: "u\(i)@c")
            }
            // One without a Message-ID: deduplicated by its header fingerprint.
            try await fixture.dovecot.append(user: "alice", message: "From: jane@client.example\r\nTo: \(SyncFixture.owner)\r\nSubject: no id\r\nDate: Mon, 21 Sep 2026 09:00:00 +0000\r\n\r\nx\r\n", date: fixture.daysAgo(1))
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("lead-1").count == 6)
            let before = try await fixture.count("SELECT uid_validity FROM folder_cursors WHERE folder = 'INBOX'")

            try await fixture.dovecot.recreateFolder(user: "alice")
            for i in 0..<6 {
                try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Mail \(i)", messageID: "u\(i)@c")
            }
            try await fixture.dovecot.append(user: "alice", message: "From: jane@client.example\r\nTo: \(SyncFixture.owner)\r\nSubject: no id\r\nDate: Mon, 21 Sep 2026 09:00:00 +0000\r\n\r\nx\r\n", date: fixture.daysAgo(1))
            await fixture.advanceAndSync(seconds: 400)
            #expect(try await fixture.count("SELECT uid_validity FROM folder_cursors WHERE folder = 'INBOX'") != before)
            let entries = try await fixture.timeline("lead-1")
            #expect(entries.count == 7)  // the six old ones once each, and the new "Mail 5"
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 7)
        }
    }

    @Test("one message in two users' mailboxes appears once per lead, with both users")
    func sharedMessage() async throws {
        try await SyncFixture.with(
            leads: Self.leads, dovecotUsers: [(name: "alice", password: SyncFixture.password), (name: "carol", password: "pw2")]) { fixture in
            _ = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "carol", role: .salesperson)
            _ = try await fixture.company.admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "carol@acme.example", username: "carol", port: fixture.dovecot.port, secret: "pw2", userID: "carol"))
            let message = "From: jane@client.example\r\nTo: \(SyncFixture.owner), carol@acme.example\r\nSubject: To you both\r\nMessage-ID: <both@c>\r\n\r\nHi both\r\n"
            try await fixture.dovecot.append(user: "alice", message: message, date: fixture.daysAgo(1))
            try await fixture.dovecot.append(user: "carol", message: message, date: fixture.daysAgo(1))
            #expect(await fixture.harness.runSyncs() == 2)
            let entries = try await fixture.timeline("lead-1")
            #expect(entries.count == 1)
            #expect(entries.first?.userIds == [fixture.company.adminUserID, "carol"].sorted())
        }
    }

    @Test("Resync from an earlier date records older mail and duplicates nothing; SyncNow runs at once the first time")
    func resync() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Recent", messageID: "recent@c")
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Last quarter", messageID: "old@c",
                                      date: fixture.daysAgo(60))
            var now = SyncNowRequest()
            now.mailboxId = fixture.mailboxID
            #expect(try await fixture.company.admin.syncNow(now).scheduledAt == fixture.harness.clock.now())
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("lead-1").map(\.subject) == ["Recent"])

            var request = ResyncRequest()
            request.mailboxId = fixture.mailboxID
            request.since = Timestamp(secondsSinceEpoch: fixture.daysAgo(90).timeIntervalSince1970)
            #expect(try await fixture.company.admin.resync(request).scheduledAt == fixture.harness.clock.now())
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(Set(try await fixture.timeline("lead-1").map(\.subject)) == ["Recent", "Last quarter"])
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == 2)
            #expect(try await fixture.events([.syncStarted]).contains { $0.detail.hasPrefix("resync asked from") })
        }
    }

    @Test("no IMAP server listening: ERROR as a temporary failure with the system's words and its own hint; retried with backoff")
    func connectionRefused() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = fixture.mailboxID
            update.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(try DovecotServer.freePort()), .none)
            _ = try await fixture.company.admin.updateMailboxCredentials(update)
            await fixture.harness.runSyncs()
            let status = try await fixture.status()
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .temporary)
            #expect(error.serverText.lowercased().contains("refused") || error.serverText.lowercased().contains("connect"), "\(error.serverText)")
            #expect(!error.fixHint.isEmpty)
            // The first retry waits a minute: nothing runs before it, one run after.
            #expect(await fixture.advanceAndSync(seconds: 30) == 0)
            #expect(await fixture.advanceAndSync(seconds: 31) == 1)
            #expect(try await fixture.errorLog().first?.count == 2)
        }
    }

    @Test("a recorded email is linked to its lead's open opportunities, not to won or lost ones, nor to other leads'")
    func opportunities() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            var request = UpsertOpportunitiesRequest()
            for (id, lead, status) in [("open-1", "lead-1", OpportunityStatus.open), ("open-2", "lead-1", .open),
                                       ("won", "lead-1", .won), ("other", "lead-2", .open)] {
                var opportunity = Opportunity()
                opportunity.id = id
                opportunity.leadId = lead
                opportunity.name = id
                opportunity.status = status
                request.opportunities.append(opportunity)
            }
            #expect(try await fixture.company.admin.upsertOpportunities(request).rejections.isEmpty)
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Deal", messageID: "deal@c")
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("lead-1").first?.opportunityIds == ["open-1", "open-2"])
        }
    }

    @Test("a lead added after its mail was synced gets that mail on a resync, without the mail counting twice")
    func leadAddedLater() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, cc: "newcomer@later.example",
                                      subject: "Intro", messageID: "intro@c")
            await fixture.harness.runSyncs()
            try await SyncFixture.upsertLeads(fixture.company, [(id: "lead-3", address: "newcomer@later.example")])
            var request = ResyncRequest()
            request.mailboxId = fixture.mailboxID
            _ = try await fixture.company.admin.resync(request)
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("lead-3").map(\.subject) == ["Intro"])
            #expect(try await fixture.timeline("lead-1").count == 1)
            #expect(try await fixture.status().mailbox.syncedToday == 1)
            #expect(try await fixture.events([.emailRecorded]).count == 1)
        }
    }
}
