import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncService
import MailSyncStorage
import Testing
import TestSupport

/// Retro-match against a real Dovecot on 127.0.0.1: a lead (or address) added after its mail was
/// synced gets that mail at the mailbox's next run, found with the server's own search, without a
/// Resync, recorded and counted once.
@Suite("Sync engine: retro-match", .timeLimit(.minutes(5)))
struct RetroMatchTests {
    static let leads = [(id: "lead-1", address: "jane@client.example")]

    /// Dovecot writes every session's input to `<home>/<time>.<pid>.<n>.in` (its rawlog), so the
    /// tests count the commands the server received, not what the engine says it sent.
    static let rawlog = DovecotServer.Options(extraConfig: "protocol imap {\n  rawlog_dir = %h\n}\n")

    /// Retro-match `UID SEARCH` commands Dovecot received, per session (oldest first).
    static func retroSearches(_ fixture: SyncFixture) throws -> [Int] {
        let home = fixture.dovecot.directory + "/mail/alice"
        let files = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.hasSuffix(".in") }.sorted()
        return try files.map { name in
            let text = try String(contentsOfFile: home + "/" + name, encoding: .utf8)
            return text.split(whereSeparator: \.isNewline).filter { $0.contains("UID SEARCH") && $0.contains("FROM \"") }.count
        }
    }

    static func upsert(_ company: ServiceHarness.Company, id: String, addresses: [String]) async throws {
        let response = try await company.admin.upsertLeads { writer in
            var lead = Lead()
            lead.id = id
            lead.name = "Lead \(id)"
            lead.emailAddresses = addresses
            try await writer.write(lead)
        }
        #expect(response.rejections.isEmpty, "\(response.rejections)")
    }

    /// Moves the clock one poll interval (Essential: 5 minutes) on and runs what is due.
    static func nextRun(_ fixture: SyncFixture) async {
        await fixture.advanceAndSync(seconds: 301)
    }

    @Test("a lead added later gets its past mail at the next run, no Resync: mail recorded for nobody, and mail recorded for another lead; counted once")
    func leadAddedLater() async throws {
        try await SyncFixture.with(leads: Self.leads, dovecotOptions: Self.rawlog) { fixture in
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, cc: "newcomer@later.example",
                                      subject: "Intro", messageID: "intro@c")
            try await fixture.deliver(from: "Newcomer <newcomer@later.example>", to: SyncFixture.owner, subject: "Hello", messageID: "hello@l")
            try await fixture.deliver(from: SyncFixture.owner, to: "newcomer@later.example", subject: "Our reply", messageID: "reply@a",
                                      folder: "Sent")
            try await fixture.deliver(from: "stranger@nowhere.example", to: SyncFixture.owner, subject: "Spam", messageID: "spam@n")
            // Outside the backfill window: never reached.
            try await fixture.deliver(from: "newcomer@later.example", to: SyncFixture.owner, subject: "Ancient", messageID: "old@l",
                                      date: fixture.daysAgo(45))
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(try await fixture.timeline("lead-1").map(\.subject) == ["Intro"])
            #expect(try await fixture.status().mailbox.syncedToday == 1)

            try await Self.upsert(fixture.company, id: "lead-3", addresses: ["Newcomer@Later.example"])
            await Self.nextRun(fixture)
            let entries = try await fixture.timeline("lead-3")
            #expect(Set(entries.map(\.subject)) == ["Intro", "Hello", "Our reply"])
            #expect(entries.count == 3)
            #expect(entries.first { $0.subject == "Hello" }?.bodyText == "Hello.\r\n")
            #expect(entries.first { $0.subject == "Our reply" }?.direction == .sent)
            #expect(try await fixture.timeline("lead-1").map(\.subject) == ["Intro"])
            // Intro was counted when it was first recorded; only the two new ones count now.
            #expect(try await fixture.status().mailbox.syncedToday == 3)
            #expect(try await fixture.events([.emailRecorded]).count == 3)
            #expect(try await fixture.count("SELECT count(*) FROM messages") == 3)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 3)
            let completed = try #require(try await fixture.events([.syncCompleted]).first)
            #expect(completed.detail.contains("retro-match: past mail searched for 1 new lead address (2 searches): 3 emails found, 2 recorded, 1 timeline entry added to mail recorded before"),
                    "\(completed.detail)")
            #expect(completed.emailsSynced == 2)
            #expect(try await fixture.events([.syncStarted]).allSatisfy { !$0.detail.contains("resync") })
            #expect(try Self.retroSearches(fixture).reduce(0, +) == 2)

            // Handled: the next run searches nothing, records nothing, and the queue is pruned.
            await Self.nextRun(fixture)
            let last = try #require(await fixture.harness.server.scheduler!.recentRuns.last)
            #expect(last.succeeded && last.retroSearches == 0 && last.roundTrips <= 2, "\(last)")
            #expect(try Self.retroSearches(fixture).reduce(0, +) == 2)
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 0)
            #expect(try await fixture.timeline("lead-3").count == 3)
            // An update that keeps the lead's address queues nothing.
            try await Self.upsert(fixture.company, id: "lead-3", addresses: ["newcomer@later.example"])
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 0)
        }
    }

    @Test("a bulk import of 500 leads is searched in bounded batches over several runs and still finds the one lead with mail")
    func bulkImport() async throws {
        var sync = ServiceHarness.syncSettings()
        sync.retroMatchAddressesPerSearch = 20
        sync.retroMatchSearchesPerRun = 10
        try await SyncFixture.with(leads: Self.leads, sync: sync, dovecotOptions: Self.rawlog) { fixture in
            try await fixture.deliver(from: "bulk-317@import.example", to: SyncFixture.owner, subject: "From the import", messageID: "b317@i")
            try await fixture.deliver(from: SyncFixture.owner, to: "someone@else.example", subject: "Unrelated", messageID: "u@a", folder: "Sent")
            for i in 0..<20 {
                try await fixture.deliver(from: "other-\(i)@nowhere.example", to: SyncFixture.owner, subject: "Noise \(i)", messageID: "n\(i)@n")
            }
            await fixture.harness.runSyncs()
            #expect(try Self.retroSearches(fixture).reduce(0, +) == 0)

            try await SyncFixture.upsertLeads(fixture.company, (0..<500).map { (id: "bulk-\($0)", address: "bulk-\($0)@import.example") })
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 500)
            // 20 addresses per search, 10 searches per run over INBOX and Sent: 100 addresses a
            // run, so five runs; lead 317 is in the fourth.
            var remaining: [String] = []
            for run in 1...5 {
                await Self.nextRun(fixture)
                let summary = try #require(await fixture.harness.server.scheduler!.recentRuns.last)
                #expect(summary.succeeded && summary.retroSearches == 10, "run \(run): \(summary)")
                let detail = try #require(try await fixture.events([.syncCompleted]).first).detail
                remaining.append(detail.components(separatedBy: "; ").first { $0.hasSuffix("wait for the next runs") } ?? "none")
                #expect(try await fixture.timeline("bulk-317").count == (run >= 4 ? 1 : 0), "run \(run)")
            }
            #expect(remaining == ["400 addresses wait for the next runs", "300 addresses wait for the next runs",
                                  "200 addresses wait for the next runs", "100 addresses wait for the next runs", "none"])
            // What Dovecot received: one session per run, at most 10 retro searches in each.
            let searches = try Self.retroSearches(fixture).filter { $0 > 0 }
            #expect(searches == [10, 10, 10, 10, 10], "\(searches)")
            await Self.nextRun(fixture)
            #expect(try Self.retroSearches(fixture).last == 0)
            #expect(try await fixture.timeline("bulk-317").map(\.subject) == ["From the import"])
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == 1)
            #expect(try await fixture.events([.emailRecorded]).count == 1)
        }
    }

    @Test("the daily cap defers retro-matched mail to the next day; none is lost or counted twice")
    func dailyCap() async throws {
        try await SyncFixture.with(leads: Self.leads) { fixture in
            try await SyncEngineTests.setDailyCap(fixture, 2)
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Jane", messageID: "j@c",
                                      date: fixture.daysAgo(3))
            for i in 0..<3 {
                try await fixture.deliver(from: "newcomer@later.example", to: SyncFixture.owner, subject: "New \(i)", messageID: "new\(i)@l",
                                          date: fixture.daysAgo(2 - Double(i) / 100))
            }
            await fixture.harness.runSyncs()
            #expect(try await fixture.status().mailbox.syncedToday == 1)

            try await Self.upsert(fixture.company, id: "lead-3", addresses: ["newcomer@later.example"])
            await Self.nextRun(fixture)
            #expect(try await fixture.timeline("lead-3").map(\.subject) == ["New 0"])
            #expect(try await fixture.status().mailbox.syncedToday == 2)
            let completed = try #require(try await fixture.events([.syncCompleted]).first)
            #expect(completed.detail.contains("daily limit"), "\(completed.detail)")
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 1, "the batch is not handled yet")

            // Later the same day: nothing runs (the mailbox waits for the company's next day).
            #expect(await fixture.advanceAndSync(seconds: 3600) == 0)
            await fixture.advanceAndSync(seconds: 86_400)
            let entries = try await fixture.timeline("lead-3")
            #expect(entries.map(\.subject).sorted() == ["New 0", "New 1", "New 2"])
            #expect(try await fixture.status().mailbox.syncedToday == 2)
            #expect(try await fixture.events([.emailRecorded]).count == 4)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 4)
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 0)
            #expect(try await fixture.timeline("lead-1").count == 1)
        }
    }

    @Test("a lead deleted and re-added, and an address moved between leads: each message on the right leads exactly once")
    func deletedReaddedAndMoved() async throws {
        try await SyncFixture.with(leads: [(id: "lead-1", address: "jane@client.example"), (id: "lead-2", address: "bob@other.example")]) { fixture in
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "From Jane", messageID: "j@c")
            try await fixture.deliver(from: "bob@other.example", to: SyncFixture.owner, subject: "From Bob", messageID: "b@o")
            try await fixture.deliver(from: "bob@other.example", to: SyncFixture.owner, cc: "jane@client.example", subject: "Both", messageID: "jb@o")
            await fixture.harness.runSyncs()
            #expect(Set(try await fixture.timeline("lead-1").map(\.subject)) == ["From Jane", "Both"])
            #expect(Set(try await fixture.timeline("lead-2").map(\.subject)) == ["From Bob", "Both"])

            var delete = DeleteLeadRequest()
            delete.leadId = "lead-1"
            #expect(try await fixture.company.admin.deleteLead(delete).removedTimelineEntries == 2)
            try await Self.upsert(fixture.company, id: "lead-1", addresses: ["jane@client.example"])
            await Self.nextRun(fixture)
            let jane = try await fixture.timeline("lead-1")
            #expect(jane.map(\.subject).sorted() == ["Both", "From Jane"])

            // bob's address moves from lead-2 to lead-4: lead-4 gets his past mail; lead-2 keeps
            // what was recorded while the address was its own (nothing recorded is deleted).
            try await Self.upsert(fixture.company, id: "lead-2", addresses: ["robert@other.example"])
            try await Self.upsert(fixture.company, id: "lead-4", addresses: ["bob@other.example"])
            try await fixture.deliver(from: "bob@other.example", to: SyncFixture.owner, subject: "After the move", messageID: "after@o")
            await Self.nextRun(fixture)
            #expect(try await fixture.timeline("lead-4").map(\.subject).sorted() == ["After the move", "Both", "From Bob"])
            #expect(try await fixture.timeline("lead-2").map(\.subject).sorted() == ["Both", "From Bob"])
            #expect(try await fixture.timeline("lead-1").map(\.subject).sorted() == ["Both", "From Jane"])

            // Nothing twice: one entry per lead and message, each message recorded and counted once.
            #expect(try await fixture.count("SELECT count(*) FROM (SELECT lead_id, message_key FROM timeline_entries GROUP BY 1, 2 HAVING count(*) > 1)") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == 7)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 4)
            #expect(try await fixture.events([.emailRecorded]).count == 4)
            #expect(try await fixture.status().mailbox.syncedToday == 4)
        }
    }

    @Test("a lead address IMAP search cannot carry safely (non-ASCII) is passed over and said so; the others are searched; nothing is sent unquoted")
    func unsearchableAddress() async throws {
        try await SyncFixture.with(leads: Self.leads, dovecotOptions: Self.rawlog) { fixture in
            try await fixture.deliver(from: "ann@later.example", to: SyncFixture.owner, subject: "From Ann", messageID: "ann@l")
            await fixture.harness.runSyncs()
            try await Self.upsert(fixture.company, id: "lead-5", addresses: ["jörg@later.example", "ann@later.example"])
            await Self.nextRun(fixture)
            #expect(try await fixture.timeline("lead-5").map(\.subject) == ["From Ann"])
            let completed = try #require(try await fixture.events([.syncCompleted]).first)
            #expect(completed.detail.contains("1 address with characters IMAP search cannot carry safely"), "\(completed.detail)")
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 0)
            let home = fixture.dovecot.directory + "/mail/alice"
            let sent = try FileManager.default.contentsOfDirectory(atPath: home).filter { $0.hasSuffix(".in") }
                .map { try String(contentsOfFile: home + "/" + $0, encoding: .utf8) }.joined()
            #expect(sent.contains("FROM \"ann@later.example\""))
            #expect(!sent.contains("j\u{F6}rg"))
        }
    }
}

extension RetroMatchTests {
    @Test("turning in-house prevention off reaches the in-house mail skipped before; turning it on again deletes nothing")
    func inHouseTurnedOff() async throws {
        try await SyncFixture.with(leads: [(id: "colleague-lead", address: "colleague@acme.example")] + Self.leads) { fixture in
            try await fixture.deliver(from: "colleague@acme.example", to: SyncFixture.owner, subject: "Lunch?", messageID: "lunch@acme")
            try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Hello", messageID: "h@c")
            await fixture.harness.runSyncs()
            #expect(try await fixture.timeline("colleague-lead").isEmpty)
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 0)

            var off = UpdateCompanySettingsRequest()
            off.preventInternalEmailSync = false
            _ = try await fixture.company.admin.updateCompanySettings(off)
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 1, "only the in-house lead address")
            await Self.nextRun(fixture)
            #expect(try await fixture.timeline("colleague-lead").map(\.subject) == ["Lunch?"])
            #expect(try await fixture.status().mailbox.syncedToday == 2)

            var on = UpdateCompanySettingsRequest()
            on.preventInternalEmailSync = true
            _ = try await fixture.company.admin.updateCompanySettings(on)
            #expect(try await fixture.count("SELECT count(*) FROM retro_queue") == 0)
            await Self.nextRun(fixture)
            #expect(try await fixture.timeline("colleague-lead").map(\.subject) == ["Lunch?"])
            #expect(try await fixture.timeline("lead-1").map(\.subject) == ["Hello"])
        }
    }
}
