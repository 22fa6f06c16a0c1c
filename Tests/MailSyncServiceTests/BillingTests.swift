import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
import Testing

/// GetBillingReport end to end: mailboxes created, queued and disabled at chosen times (the
/// harness's manual clock) across days, counted per company in its own time zone.
@Suite("Billing report", .timeLimit(.minutes(5)))
struct BillingTests {
    static func at(_ iso: String) -> Timestamp {
        Timestamp(secondsSinceEpoch: ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970)
    }

    static func report(_ start: String, _ end: String, company: String = "") -> GetBillingReportRequest {
        var request = GetBillingReportRequest()
        request.periodStart = at(start)
        request.periodEnd = at(end)
        request.companyId = company
        return request
    }

    @Test("billable mailbox-days per company, in each company's zone; PENDING and DISABLED time not billed")
    func report() async throws {
        let harness = try await ServiceHarness.start()
        let acme = try await harness.makeCompany(name: "Acme")
        let globex = try await harness.makeCompany(name: "Globex", plan: .advanced)
        let initech = try await harness.makeCompany(name: "Initech")
        var newYork = UpdateCompanySettingsRequest()
        newYork.timeZone = "America/New_York"
        _ = try await acme.admin.updateCompanySettings(newYork)
        try await MailboxFixtures.setMailboxSyncLimit(harness, acme, 1)
        for id in ["u1", "u2"] { _ = try await MailboxFixtures.makeUser(harness, acme, id: id, role: .salesperson) }

        // Globex (UTC): one mailbox enabled since before the period.
        harness.clock.set(Self.at("2026-09-28T12:00:00Z"))
        _ = try await globex.admin.createMailboxConnection(MailboxFixtures.request(email: "g@globex.example"))

        // Acme (New York, limit 1).
        harness.clock.set(Self.at("2026-10-01T10:00:00-04:00"))
        let m1 = try await acme.admin.createMailboxConnection(MailboxFixtures.request(email: "boss@acme.example"))
        harness.clock.set(Self.at("2026-10-02T23:30:00-04:00"))
        let m2 = try await acme.admin.createMailboxConnection(Self.mailbox("u1"))
        #expect(m2.status == .pending)
        harness.clock.set(Self.at("2026-10-03T09:00:00-04:00"))  // m2 takes m1's place
        _ = try await acme.admin.disableMailbox(MailboxFixtures.disable(m1.id, .keep))
        harness.clock.set(Self.at("2026-10-04T12:00:00-04:00"))
        _ = try await acme.admin.disableMailbox(MailboxFixtures.disable(m2.id, .keep))
        harness.clock.set(Self.at("2026-10-05T23:00:00-04:00"))
        let m3 = try await acme.admin.createMailboxConnection(Self.mailbox("u2"))
        harness.clock.set(Self.at("2026-10-06T01:00:00-04:00"))
        _ = try await acme.admin.disableMailbox(MailboxFixtures.disable(m3.id, .remove))
        harness.clock.set(Self.at("2026-10-09T00:00:00Z"))

        let period = ("2026-10-01T00:00:00-04:00", "2026-10-08T00:00:00-04:00")
        let all = try await harness.operatorClient.getBillingReport(Self.report(period.0, period.1))
        #expect(all.periodStart == Self.at(period.0))
        #expect(all.periodEnd == Self.at(period.1))
        #expect(all.companies.count == 3)
        let byID = Dictionary(uniqueKeysWithValues: all.companies.map { ($0.companyId, $0) })
        // m1: Oct 1–3; m2 (PENDING until Oct 3): Oct 3–4; m3: Oct 5 and 6 in New York (one UTC day).
        #expect(byID[acme.id]?.billableMailboxDays == 7)
        #expect(byID[acme.id]?.companyName == "Acme")
        // The period is 04:00 to 04:00 UTC: Globex's UTC days Oct 1 to Oct 8, the outer two partly.
        #expect(byID[globex.id]?.billableMailboxDays == 8)
        #expect(byID[globex.id]?.plan == .advanced)
        #expect(byID[initech.id]?.billableMailboxDays == 0)

        let one = try await harness.operatorClient.getBillingReport(Self.report(period.0, period.1, company: acme.id))
        #expect(one.companies.map(\.companyId) == [acme.id])
        #expect(one.companies.first?.billableMailboxDays == 7)
        // Only the first two days: m1 alone.
        let firstDays = try await harness.operatorClient.getBillingReport(
            Self.report("2026-10-01T00:00:00-04:00", "2026-10-03T00:00:00-04:00", company: acme.id))
        #expect(firstDays.companies.first?.billableMailboxDays == 2)
        await harness.stop()
    }

    @Test("bad periods and unknown companies are refused; other roles may not ask")
    func refusals() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let client = harness.operatorClient
        let cases: [(GetBillingReportRequest, String)] = [
            ({ var r = Self.report("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"); r.periodStart = .epoch; return r }(), "period_start is required"),
            ({ var r = Self.report("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z"); r.periodEnd = .epoch; return r }(), "period_end is required"),
            (Self.report("2026-10-02T00:00:00Z", "2026-10-02T00:00:00Z"), "period_start must be before period_end"),
            (Self.report("2026-01-01T00:00:00Z", "2027-01-02T00:00:01Z"), "period_start to period_end spans more than 366 days"),
            // Extreme values: once a trap (`end - start` overflowed) that took the process down. Now
            // refused by the schema's bounds (`range`, `interval`) before the handler runs.
            (Self.extreme(-1, .max), "period_start is -1 µs since the epoch; must be from 1970-01-01 to 9999-12-31"),
            (Self.extreme(.min, .max), "period_start is -9223372036854775808 µs since the epoch"),
            (Self.extreme(.min, 1), "period_start is -9223372036854775808 µs since the epoch"),
            (Self.extreme(1, .max), "period_end is 9223372036854775807 µs since the epoch; must be from 1970-01-01 to 9999-12-31"),
            (Self.extreme(.max - 1, .max), "period_start is 9223372036854775806 µs since the epoch"),
            (Self.extreme(1, BillingHandlers.maxTimestamp), "period_start to period_end spans more than 366 days; at most 366"),
        ]
        for (request, message) in cases {
            await #expect { _ = try await client.getBillingReport(request) } throws: { error in
                (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.hasPrefix(message) == true
            }
        }
        #expect(try await client.getBillingReport(Self.report("2026-01-01T00:00:00Z", "2027-01-02T00:00:00Z")).companies.count == 1)
        let unknown = Self.report("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", company: UUID().uuidString.lowercased())
        await #expect { _ = try await client.getBillingReport(unknown) } throws: { ($0 as? RPCError)?.code == .notFound }
        let own = Self.report("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z", company: company.id)
        await #expect { _ = try await company.admin.getBillingReport(own) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        await harness.stop()
    }

    static func extreme(_ start: Int64, _ end: Int64) -> GetBillingReportRequest {
        var request = GetBillingReportRequest()
        request.periodStart = Timestamp(microsecondsSinceEpoch: start)
        request.periodEnd = Timestamp(microsecondsSinceEpoch: end)
        return request
    }

    static func mailbox(_ user: String) -> CreateMailboxConnectionRequest {
        var request = MailboxFixtures.request(email: "\(user)@acme.example")
        request.userId = user
        return request
    }
}
