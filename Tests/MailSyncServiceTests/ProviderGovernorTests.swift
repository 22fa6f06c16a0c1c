import Foundation
import MailSyncClient
import MailSyncService
import TestSupport
import Testing

/// The provider governor through the sync engine: a daily download budget against a real
/// Dovecot, and throttling answers from the test suite's own server. Neither is an error.
@Suite("Provider governor: daily budgets and throttling", .timeLimit(.minutes(5)))
struct ProviderGovernorTests {
    static func logins(_ dovecot: DovecotServer) -> Int {
        dovecot.log().split(separator: "\n").filter { $0.contains("imap-login: Info: Login:") }.count
    }

    @Test("the daily download budget stops a run at 90% and the rest comes on later UTC days: no error, nothing lost or doubled, no login while nothing is left")
    func downloadBudget() async throws {
        var budget = ProviderSettings()
        budget.dailyDownloadBytes = 150_000
        var sync = ServiceHarness.syncSettings()
        sync.headersPerBatch = 3  // ~60 KB of bodies a batch: the limit falls between batches
        try await SyncFixture.with(
            leads: [(id: "lead-1", address: "jane@client.example")], sync: sync,
            configure: { $0.providers = ["CUSTOM_IMAP": budget] }
        ) { fixture in
            let body = String(repeating: "twenty kilobytes of quoted text\r\n", count: 620)  // ~20 KB
            for i in 0..<12 {
                try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "Big \(i)", body: body,
                                          messageID: "big-\(i)@client.example", date: fixture.daysAgo(2 - Double(i) / 100))
            }
            // Day 1 (2026-09-21, from 14:13 UTC): no command is sent past 135 KB (the reply in
            // flight completes, so its batch commits).
            await fixture.harness.runSyncs()
            let first = try await fixture.timeline("lead-1").count
            #expect(first > 0 && first < 12, "recorded \(first)")
            var status = try await fixture.status()
            #expect(status.mailbox.status == .enabled)
            #expect(status.mailbox.deferredUntil?.microsecondsSinceEpoch == 1_790_035_200_000_000, "the next UTC midnight")
            #expect(status.mailbox.deferredReason.contains("daily"), "\(status.mailbox.deferredReason)")
            #expect(status.mailbox.downloadedBytesToday > 135_000 && status.mailbox.downloadedBytesToday < 210_000,
                    "\(status.mailbox.downloadedBytesToday)")
            #expect(status.lastError == nil)
            #expect(try await fixture.errorLog().isEmpty)
            #expect(try await fixture.events([.deferred]).count == 1)

            // Asked to sync now the same day: it does not even log in.
            let loginsBefore = Self.logins(fixture.dovecot)
            var now = SyncNowRequest()
            now.mailboxId = fixture.mailboxID
            _ = try await fixture.company.admin.syncNow(now)
            #expect(await fixture.harness.runSyncs() == 1)
            #expect(Self.logins(fixture.dovecot) == loginsBefore)
            #expect(try await fixture.timeline("lead-1").count == first)
            #expect(try await fixture.events([.deferred]).count == 2)

            // Later UTC days bring the rest, once each.
            var days = 0
            while try await fixture.timeline("lead-1").count < 12, days < 5 {
                await fixture.advanceAndSync(seconds: 86_400)
                days += 1
            }
            let all = try await fixture.timeline("lead-1")
            #expect(all.count == 12 && Set(all.map(\.subject)).count == 12, "\(all.map(\.subject))")
            #expect(days >= 1 && days <= 3, "\(days) more days")
            status = try await fixture.status()
            #expect(status.mailbox.status == .enabled)
            #expect(try await fixture.errorLog().isEmpty)
        }
    }

    @Test("a throttling answer holds the mailbox back as long as the provider asks, as an event, not an error; then the sync goes on", arguments: [
        ("Request is throttled. Suggested Backoff Time: 120000 milliseconds", Int64(120)),
        ("[THROTTLED] Too many commands, slow down", Int64(300)),
    ])
    func throttled(text: String, seconds: Int64) async throws {
        let messages = (1...3).map { HostileMailboxFixture.mail(uid: UInt32($0)) }
        try await HostileMailboxFixture.with(mode: .refuse(during: "UID FETCH", text: text), messages: messages) { fixture in
            let start = fixture.harness.clock.now().microsecondsSinceEpoch
            await fixture.harness.runSyncs()
            var status = try await fixture.status()
            #expect(status.mailbox.status == .enabled, "not an error")
            #expect(status.lastError == nil)
            #expect(try await fixture.errorLog().isEmpty)
            let until = try #require(status.mailbox.deferredUntil).microsecondsSinceEpoch
            #expect(until - start >= seconds * 1_000_000 && until - start < (seconds + 5) * 1_000_000, "\(until - start)")
            #expect(status.mailbox.deferredReason.contains(text.prefix(20)), "\(status.mailbox.deferredReason)")
            let events = try await fixture.events([.deferred])
            #expect(events.count == 1 && events[0].detail.contains(text.prefix(20)), "\(events.map(\.detail))")
            #expect(try await fixture.count("SELECT failed_attempts FROM mailboxes") == 0, "no failure streak")

            // Not before the wait is over; then, with the provider willing again, the mail comes.
            #expect(await fixture.advanceAndSync(seconds: Double(seconds) - 10) == 0)
            fixture.server.mode = .wellBehaved
            #expect(await fixture.advanceAndSync(seconds: 11) == 1)
            #expect(try await fixture.timeline("lead-1").count == 3)
            status = try await fixture.status()
            #expect(status.mailbox.deferredUntil == nil)
            #expect(status.mailbox.deferredReason.isEmpty)
        }
    }
}

/// The governor's Smart Mail side: the provider's daily sending limit, through aiosmtpd.
@Suite("Provider governor: daily sends", .timeLimit(.minutes(5)))
struct ProviderSendLimitTests {
    @Test("past 90% of the provider's daily send limit a Smart Mail is refused before any SMTP connection, with a retry after midnight UTC; the next day it goes")
    func dailySends() async throws {
        var limits = ProviderSettings()
        limits.dailySends = 3  // 90%: two a day
        try await SmartMailFixture.with(settings: { settings, _ in settings.providers = ["CUSTOM_IMAP": limits] }) { fixture in
            for i in 0..<2 {
                _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request(subject: "Offer \(i)"))
            }
            #expect(try fixture.smtp.messages().count == 2)
            let error = await #expect(throws: RPCError.self) {
                _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request(subject: "One too many"))
            }
            #expect(error?.code == .resourceExhausted)
            #expect(error?.message.contains("provider allows 3 a day") == true, "\(error?.message ?? "")")
            // 2026-09-21 14:13:20 UTC → midnight is 9 h 46 min 40 s away.
            #expect(error?.trailers[Metadata.retryAfterKey] == "35200000", "\(String(describing: error?.trailers))")
            #expect(try fixture.smtp.messages().count == 2, "nothing reached the SMTP server")
            var get = GetMailboxStatusRequest()
            get.mailboxId = fixture.mailboxID
            #expect(try await fixture.company.admin.getMailboxStatus(get).mailbox.sendsToday == 2)

            fixture.harness.clock.advance(seconds: 36_000)
            _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request(subject: "The next day"))
            #expect(try fixture.smtp.messages().count == 3)
            #expect(try await fixture.company.admin.getMailboxStatus(get).mailbox.sendsToday == 1)
        }
    }
}
