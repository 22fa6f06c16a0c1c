import Foundation
import MailSyncClient
import TestSupport
import Testing

/// The synced-emails-per-user-per-day cap counts per user, and its day is the company's own
/// (midnight in the company's time zone), not UTC's.
@Suite("Daily cap: per user, in the company's time zone", .timeLimit(.minutes(5)))
struct DailyCapDayTests {
    @Test("each user has their own cap; the deferred mail comes after the company's midnight, before UTC's")
    func capDayIsTheCompanys() async throws {
        let users = [(name: "alice", password: SyncFixture.password), (name: "bob", password: "hunter2")]
        try await SyncFixture.with(leads: [(id: "lead-1", address: "jane@client.example")], dovecotUsers: users) { fixture in
            let admin = fixture.company.admin
            // The harness's clock: 2026-09-21 14:13:20 UTC, which is 23:13:20 in Tokyo (UTC+9, no
            // DST): Tokyo's midnight comes 46 min 40 s later, UTC's 9 h 46 min 40 s later.
            var settings = UpdateCompanySettingsRequest()
            settings.timeZone = "Asia/Tokyo"
            _ = try await admin.updateCompanySettings(settings)
            var get = GetCompanyRequest()
            get.companyId = fixture.company.id
            var limits = SetCompanyLimitsRequest()
            limits.limits = try await fixture.harness.operatorClient.getCompany(get).limits
            limits.limits.syncedEmailsPerUserPerDay = 3
            _ = try await admin.setCompanyLimits(limits)

            var bob = CreateUserRequest()
            bob.id = "bob"
            bob.name = "Bob"
            bob.email = "bob@acme.example"
            bob.role = .salesperson
            _ = try await admin.createUser(bob)
            _ = try await admin.createMailboxConnection(
                SyncFixture.connectRequest(email: "bob@acme.example", username: "bob", port: fixture.dovecot.port, secret: "hunter2", userID: "bob"))

            for i in 0..<5 {
                try await fixture.deliver(from: "jane@client.example", to: SyncFixture.owner, subject: "To Alice \(i)",
                                          messageID: "alice-\(i)@client.example", date: fixture.daysAgo(2 - Double(i) / 1000))
                try await fixture.dovecot.append(
                    user: "bob",
                    message: "From: jane@client.example\r\nTo: bob@acme.example\r\nSubject: To Bob \(i)\r\nMessage-ID: <bob-\(i)@client.example>\r\n\r\nHi.\r\n",
                    date: fixture.daysAgo(2 - Double(i) / 1000))
            }
            func subjects() async throws -> (alice: Int, bob: Int) {
                let entries = try await fixture.timeline("lead-1").map(\.subject)
                return (entries.filter { $0.hasPrefix("To Alice") }.count, entries.filter { $0.hasPrefix("To Bob") }.count)
            }

            // Each user's mailbox records three: Alice's cap does not use up Bob's.
            #expect(await fixture.harness.runSyncs() == 2)
            var counts = try await subjects()
            #expect(counts.alice == 3 && counts.bob == 3, "\(counts)")

            // 40 minutes later it is still the same day in Tokyo: both mailboxes at their cap wait
            // for the company's next day, so neither runs.
            #expect(await fixture.advanceAndSync(seconds: 40 * 60) == 0)
            counts = try await subjects()
            #expect(counts.alice == 3 && counts.bob == 3, "\(counts)")

            // 10 minutes more: past Tokyo's midnight, still the same day in UTC. A cap counted in
            // UTC days would record nothing until 9 hours later.
            #expect(await fixture.advanceAndSync(seconds: 10 * 60) == 2)
            counts = try await subjects()
            #expect(counts.alice == 5 && counts.bob == 5, "\(counts)")
            #expect(try await fixture.status().mailbox.syncedToday == 2)
        }
    }
}
