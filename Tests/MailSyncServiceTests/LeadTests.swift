import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import Testing

/// Leads, opportunities and the lead timeline through the generated client against a real server.
@Suite("Leads, opportunities and timeline", .timeLimit(.minutes(5)))
struct LeadTests {
    // MARK: Leads

    @Test("UpsertLeads: 2,000 leads in one stream; invalid ones are listed and the rest stored; a re-upsert updates and replaces addresses")
    func upsertMany() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let invalid: (Int) -> Bool = { $0 % 40 == 7 || $0 % 97 == 3 }
        let response = try await company.admin.upsertLeads { writer in
            for i in 0..<2_000 {
                var lead = Lead()
                lead.id = "lead-\(i)"
                lead.name = "Lead \(i)"
                lead.companyName = "Company \(i % 10)"
                if i % 40 == 7 {
                    lead.emailAddresses = []
                } else if i % 97 == 3 {
                    lead.emailAddresses = ["ok\(i)@example.com", "broken-\(i)"]
                } else {
                    lead.emailAddresses = ["Lead\(i)@Example.com", "lead\(i)@example.com", "alt\(i)@example.org"]
                }
                try await writer.write(lead)
            }
        }
        let rejected = (0..<2_000).filter(invalid)
        #expect(response.created == UInt32(2_000 - rejected.count))
        #expect(response.updated == 0)
        #expect(response.rejections.map(\.leadId) == rejected.map { "lead-\($0)" })
        #expect(response.rejections.first { $0.leadId == "lead-7" }?.reason.contains("at least one email address") == true)
        #expect(response.rejections.first { $0.leadId == "lead-3" }?.reason.contains("email_addresses[1]") == true)
        let stored = try await harness.withTenantDatabase(company) { db in
            (try db.scalar("SELECT count(*) FROM leads")?.int64,
             try db.scalar("SELECT count(*) FROM lead_addresses")?.int64,
             try db.query("SELECT address FROM lead_addresses WHERE lead_id = 'lead-0' ORDER BY address").compactMap { $0[0].string })
        }
        #expect(stored.0 == Int64(2_000 - rejected.count))
        #expect(stored.1 == Int64((2_000 - rejected.count) * 2))
        #expect(stored.2 == ["alt0@example.org", "lead0@example.com"])

        // Again, for the first 100 with one new address each, plus one new lead.
        let again = try await company.admin.upsertLeads { writer in
            for i in 0...100 {
                var lead = Lead()
                lead.id = i == 100 ? "lead-new" : "lead-\(i)"
                lead.name = "Renamed \(i)"
                lead.emailAddresses = ["NEW\(i)@Example.net"]
                try await writer.write(lead)
            }
        }
        let valid = (0..<100).filter { !invalid($0) }.count
        #expect(again.updated == UInt32(valid))
        #expect(again.created == UInt32(100 - valid + 1))
        #expect(again.rejections.isEmpty)
        let replaced = try await harness.withTenantDatabase(company) { db in
            (try db.query("SELECT address FROM lead_addresses WHERE lead_id = 'lead-0'").compactMap { $0[0].string },
             try db.scalar("SELECT name FROM leads WHERE id = 'lead-0'")?.string,
             try db.scalar("SELECT count(*) FROM lead_addresses")?.int64)
        }
        #expect(replaced.0 == ["new0@example.net"])
        #expect(replaced.1 == "Renamed 0")
        #expect(replaced.2 == Int64((2_000 - rejected.count - valid) * 2 + 101))
        await harness.stop()
    }

    @Test("UpsertLeads: each bad field is a rejection naming it; the other leads are stored", arguments: [
        ("id", "id"), ("name", "name"), ("company_name", "company_name"), ("no addresses", "at least one email address"),
        ("51 addresses", "at most 50"), ("bad address", "email_addresses[0]"),
    ])
    func badLead(problem: String, expected: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var bad = Lead()
        bad.id = problem == "id" ? "no spaces allowed" : "bad"
        bad.name = problem == "name" ? String(repeating: "n", count: 201) : "Bad"
        bad.companyName = problem == "company_name" ? String(repeating: "c", count: 201) : ""
        switch problem {
        case "no addresses": bad.emailAddresses = []
        case "51 addresses": bad.emailAddresses = (0...50).map { "a\($0)@example.com" }
        case "bad address": bad.emailAddresses = ["@example.com"]
        default: bad.emailAddresses = ["bad@example.com"]
        }
        var good = Lead()
        good.id = "good"
        good.emailAddresses = ["good@example.com"]
        let response = try await company.admin.upsertLeads { try await $0.write(contentsOf: [bad, good]) }
        #expect(response.created == 1)
        #expect(response.rejections.count == 1)
        #expect(response.rejections.first?.leadId == bad.id)
        #expect(response.rejections.first?.reason.contains(expected) == true, "\(response.rejections)")
        await harness.stop()
    }

    // MARK: Opportunities

    @Test("UpsertOpportunities: stored for existing leads, rejected for missing leads and bad fields; a second upsert updates")
    func opportunities() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (_, seller) = try await harness.addUser(company, id: "seller", role: .juniorSalesperson)
        try await harness.upsertLeads(company, ["lead-1", "lead-2"])
        var request = UpsertOpportunitiesRequest()
        request.opportunities = [
            opportunity("opp-1", lead: "lead-1", status: .open),
            opportunity("opp-2", lead: "lead-2", status: .won),
            opportunity("opp-3", lead: "lead-9", status: .open),
            opportunity("opp-4", lead: "lead-1", status: .unspecified),
            opportunity("opp-5", lead: "lead-1", name: " ", status: .lost),
            opportunity("", lead: "lead-1", status: .lost),
        ]
        let first = try await seller.upsertOpportunities(request)
        #expect(first.created == 2)
        #expect(first.updated == 0)
        let reasons = Dictionary(first.rejections.map { ($0.leadId, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(first.rejections.count == 4)
        #expect(reasons["opp-3"]?.contains("no lead 'lead-9'") == true)
        #expect(reasons["opp-4"]?.contains("opportunities[3].status") == true)
        #expect(reasons["opp-5"]?.contains("opportunities[4].name") == true)
        #expect(reasons[""]?.contains("opportunities[5].id") == true)

        request.opportunities = [opportunity("opp-1", lead: "lead-1", name: "Bigger deal", status: .won)]
        let second = try await seller.upsertOpportunities(request)
        #expect(second.created == 0)
        #expect(second.updated == 1)
        let rows = try await harness.withTenantDatabase(company) { db in
            try db.query("SELECT id, lead_id, name, status FROM opportunities ORDER BY id")
        }
        #expect(rows.map { $0[0].string } == ["opp-1", "opp-2"])
        #expect(rows[0][2].string == "Bigger deal")
        #expect(rows[0][3].string == LeadRecords.OpportunityStatus.won.stored)

        request.opportunities = Array(repeating: opportunity("x", lead: "lead-1", status: .open), count: 10_001)
        await #expect { _ = try await seller.upsertOpportunities(request) } throws: { isInvalidArgument($0, naming: "opportunities") }
        await harness.stop()
    }

    // MARK: DeleteLead

    @Test("DeleteLead removes the lead, its addresses, opportunities and timeline, and counts the entries")
    func deleteLead() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        try await harness.upsertLeads(company, ["lead-1", "lead-2"])
        var opportunities = UpsertOpportunitiesRequest()
        opportunities.opportunities = [opportunity("opp-1", lead: "lead-1", status: .open)]
        _ = try await company.admin.upsertOpportunities(opportunities)
        try await harness.insertMailbox(company, id: "mb", user: company.adminUserID, status: .enabled)
        for i in 0..<3 {
            try await harness.insertEntry(company, id: "e\(i)", lead: "lead-1", mailbox: "mb", user: company.adminUserID,
                                          date: Double(i), body: "hello", opportunities: ["opp-1"])
        }
        try await harness.insertEntry(company, id: "keep", lead: "lead-2", mailbox: "mb", user: company.adminUserID, date: 9, body: "other")

        var request = DeleteLeadRequest()
        request.leadId = "lead-1"
        #expect(try await company.admin.deleteLead(request).removedTimelineEntries == 3)
        let left = try await harness.withTenantDatabase(company) { db in
            try ["leads", "lead_addresses", "opportunities", "timeline_entries", "timeline_participants", "opportunity_links", "messages"]
                .map { try db.scalar("SELECT count(*) FROM \($0)")?.int64 ?? -1 }
        }
        #expect(left == [1, 1, 0, 1, 2, 0, 1])
        await #expect { _ = try await company.admin.deleteLead(request) } throws: { ($0 as? RPCError)?.code == .notFound }
        await #expect { _ = try await company.admin.listLeadTimeline(timelineRequest("lead-1")) } throws: { ($0 as? RPCError)?.code == .notFound }
        request.leadId = ""
        await #expect { _ = try await company.admin.deleteLead(request) } throws: { isInvalidArgument($0, naming: "lead_id") }

        // Another company's lead does not exist here.
        let other = try await harness.makeCompany(name: "Other")
        request.leadId = "lead-2"
        await #expect { _ = try await other.admin.deleteLead(request) } throws: { ($0 as? RPCError)?.code == .notFound }
        await harness.stop()
    }

    // MARK: Timeline

    @Test("ListLeadTimeline: newest first across pages, with participants, links and bodies by role")
    func timeline() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        let (_, seller) = try await harness.addUser(company, id: "seller", role: .salesperson)
        let (_, manager) = try await harness.addUser(company, id: "manager", role: .companyManager)
        try await harness.upsertLeads(company, ["lead-1", "lead-2"])
        var opportunities = UpsertOpportunitiesRequest()
        opportunities.opportunities = [opportunity("opp-a", lead: "lead-1", status: .open), opportunity("opp-b", lead: "lead-1", status: .open)]
        _ = try await company.admin.upsertOpportunities(opportunities)
        try await harness.insertMailbox(company, id: "mb-admin", user: company.adminUserID, status: .enabled)
        try await harness.insertMailbox(company, id: "mb-seller", user: "seller", status: .enabled)
        // Dates: two entries share date 50 (ordered by id), one has no stored body.
        let entries: [(id: String, user: String, date: Double, body: String?)] = [
            ("a", company.adminUserID, 10, "admin ten"), ("b", "seller", 50, "seller fifty b"), ("c", company.adminUserID, 50, "admin fifty c"),
            ("d", "seller", 30, nil), ("e", "seller", 70, "seller seventy"), ("f", company.adminUserID, 20, "admin twenty"),
            ("g", company.adminUserID, 60, "admin sixty"),
        ]
        for entry in entries {
            try await harness.insertEntry(company, id: entry.id, lead: "lead-1", mailbox: entry.user == "seller" ? "mb-seller" : "mb-admin",
                                          user: entry.user, date: entry.date, body: entry.body,
                                          opportunities: entry.id == "e" ? ["opp-b", "opp-a"] : [], smartMail: entry.id == "g")
        }
        try await harness.insertEntry(company, id: "z", lead: "lead-2", mailbox: "mb-admin", user: company.adminUserID, date: 99, body: "x")

        func all(_ client: MailSync.Client) async throws -> [[TimelineEntry]] {
            var pages: [[TimelineEntry]] = []
            var token = ""
            repeat {
                let page = try await client.listLeadTimeline(timelineRequest("lead-1", pageSize: 3, token: token))
                pages.append(page.entries)
                token = page.nextPageToken
            } while !token.isEmpty && pages.count < 5
            return pages
        }
        let adminPages = try await all(company.admin)
        #expect(adminPages.map(\.count) == [3, 3, 1])
        let ordered = adminPages.flatMap { $0 }
        #expect(ordered.map(\.id) == ["e", "g", "b", "c", "d", "f", "a"])
        let e = try #require(ordered.first)
        #expect(e.leadId == "lead-1")
        #expect(e.subject == "Subject e")
        #expect(e.date == Timestamp(secondsSinceEpoch: 1_700_000_070))
        #expect(e.direction == .received)
        #expect(e.mailboxId == "mb-seller")
        #expect(e.userId == "seller")
        #expect(e.opportunityIds == ["opp-a", "opp-b"])
        #expect(e.participants.map(\.kind) == [.from, .to])
        #expect(e.participants.map(\.address) == ["lead@example.com", "seller@acme.example"])
        #expect(e.participants.first?.displayName == "The Lead")
        #expect(ordered.first { $0.id == "g" }?.smartMail == true)

        // Administrators and company managers read every body; an entry without a stored body has none.
        for pages in [adminPages, try await all(manager)] {
            let byID = Dictionary(uniqueKeysWithValues: pages.flatMap { $0 }.map { ($0.id, $0) })
            for entry in entries {
                #expect(byID[entry.id]?.bodyText == entry.body)
                #expect(byID[entry.id]?.bodyWithheld == false)
            }
        }
        // A salesperson reads the bodies of their own entries only.
        let sellerEntries = try await all(seller).flatMap { $0 }
        #expect(sellerEntries.map(\.id) == ordered.map(\.id))
        for entry in sellerEntries {
            if entry.userId == "seller" {
                #expect(!entry.bodyWithheld)
                #expect(entry.bodyText == entries.first { $0.id == entry.id }?.body)
            } else {
                #expect(entry.bodyWithheld)
                #expect(entry.bodyText == nil)
            }
        }
        await harness.stop()
    }

    @Test("ListLeadTimeline: unknown or another company's lead is not found; bad fields are invalid argument naming them",
          arguments: ["lead_id", "page_size", "page_token", "unknown", "other company"])
    func badTimeline(problem: String) async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        try await harness.upsertLeads(company, ["lead-1"])
        var request = timelineRequest("lead-1")
        var client = company.admin
        switch problem {
        case "lead_id": request.leadId = "has space"
        case "page_size": request.pageSize = -5
        case "page_token": request.pageToken = "garbage!"
        case "unknown": request.leadId = "lead-404"
        default: client = try await harness.makeCompany(name: "Other").admin
        }
        await #expect { _ = try await client.listLeadTimeline(request) } throws: { error in
            ["unknown", "other company"].contains(problem) ? (error as? RPCError)?.code == .notFound : isInvalidArgument(error, naming: problem)
        }
        await harness.stop()
    }
}

func opportunity(_ id: String, lead: String, name: String = "Deal", status: OpportunityStatus) -> Opportunity {
    var opportunity = Opportunity()
    opportunity.id = id
    opportunity.leadId = lead
    opportunity.name = name
    opportunity.status = status
    return opportunity
}

// MARK: - Fixtures written straight into a company's database (the sync engine's part)

extension ServiceHarness {
    /// Runs `body` in a write transaction of the company's database.
    @discardableResult
    func withTenantDatabase<T: Sendable>(_ company: Company, _ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await server.environment!.tenants.withTenant(TenantID(validating: company.id)!) { lease in
            try await lease.write(body)
        }
    }

    /// Creates a user through the API and, unless `withKey` is false, a key and client for them.
    @discardableResult
    func addUser(_ company: Company, id: String, role: UserRole, withKey: Bool = true) async throws -> (User, MailSync.Client) {
        var request = CreateUserRequest()
        request.id = id
        request.name = "User \(id)"
        request.email = "\(id)@acme.example"
        request.role = role
        let user = try await company.admin.createUser(request)
        guard withKey else { return (user, company.admin) }
        return (user, client(key: try await key(company: company.id, user: id)))
    }

    func upsertLeads(_ company: Company, _ ids: [String]) async throws {
        let leads = ids.map { id -> Lead in
            var lead = Lead()
            lead.id = id
            lead.name = "Lead \(id)"
            lead.emailAddresses = ["\(id)@example.com"]
            return lead
        }
        let response = try await company.admin.upsertLeads { try await $0.write(contentsOf: leads) }
        precondition(response.rejections.isEmpty)
    }

    func insertMailbox(_ company: Company, id: String, user: String, status: MailboxStatus, disabled: Bool = false) async throws {
        let now = clock.now().microsecondsSinceEpoch
        try await withTenantDatabase(company) { db in
            try db.run("""
                INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                    smtp_host, smtp_port, smtp_security, username, secret, status, status_since, created_at, disabled_at)
                VALUES (?, ?, ?, 'custom_imap', 'password', 'imap.acme.example', 993, 'tls', 'smtp.acme.example', 465, 'tls', ?, ?, ?, ?, ?, ?)
                """, [.text(id), .text(user), .text("\(user)@acme.example"), .text(user), .blob([1, 2, 3]),
                      .text(MailboxRecord.Status(status)!.stored), .integer(now), .integer(now), disabled ? .integer(now) : .null])
        }
    }

    /// A timeline entry from the lead to the user, dated `date` seconds after 1,700,000,000, with its
    /// body stored zlib-compressed (none when nil) under its own message key.
    func insertEntry(_ company: Company, id: String, lead: String, mailbox: String, user: String, date: Double, body: String?,
                     opportunities: [String] = [], smartMail: Bool = false) async throws {
        let compressed = body.map(TimelineBodies.compress)
        try await withTenantDatabase(company) { db in
            let key = "<\(id)@mail.example>"
            try db.run("""
                INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, smart_mail, date_source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'unspecified')
                """, [.text(id), .text(lead), .text(key), .text(mailbox), .text(user), .text("Subject \(id)"),
                      .integer(Timestamp(secondsSinceEpoch: 1_700_000_000 + date).microsecondsSinceEpoch),
                      .text("received"), .integer(smartMail ? 1 : 0)])
            try db.run("INSERT INTO timeline_participants VALUES (?, 0, ?, 'lead@example.com', 'The Lead')",
                       [.text(id), .text("from")])
            try db.run("INSERT INTO timeline_participants VALUES (?, 1, ?, ?, '')",
                       [.text(id), .text("to"), .text("\(user)@acme.example")])
            for opportunity in opportunities {
                try db.run("INSERT INTO opportunity_links VALUES (?, ?)", [.text(id), .text(opportunity)])
            }
            if let compressed {
                try db.run("INSERT INTO messages(message_key, body_zlib, size) VALUES (?, ?, ?)",
                           [.text(key), .blob(compressed), .integer(Int64(compressed.count))])
            }
        }
    }
}
