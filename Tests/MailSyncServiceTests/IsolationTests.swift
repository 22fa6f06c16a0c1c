import Foundation
import MailSyncClient
import MailSyncService
import MailSyncStorage
import Testing

/// Two companies with marker data; every RPC called with company A's keys and company B's ids
/// returns nothing of B. The RPC list and their id fields come from the schema.
@Suite("Tenant isolation, from the schema", .timeLimit(.minutes(5)))
struct IsolationTests {
    /// Company B's data, every value carrying a marker that must never reach A.
    struct Markers {
        let marker = "ZZB-\(UUID().uuidString.prefix(8))"
        var ids: [String: String] = [:]
        var values: [String] { [marker] }
    }

    static func seedCompanyB(_ harness: ServiceHarness, _ company: ServiceHarness.Company, _ m: inout Markers) async throws {
        let tenant = TenantID(validating: company.id)!
        let marker = m.marker
        let now = harness.clock.now().microsecondsSinceEpoch
        let sealed = [UInt8](repeating: 1, count: 40)
        try await harness.server.environment!.tenants.withTenant(tenant) { lease in
            try await lease.write { db in
                _ = try db.run("INSERT INTO users VALUES ('b-user', ?, ?, 5, 1, ?)", [.text("Seller \(marker)"), .text("seller.\(marker.lowercased())@b.example"), .integer(now)])
                _ = try db.run("INSERT INTO leads VALUES ('b-lead', ?, ?, ?)", [.text("Lead \(marker)"), .text("LeadCo \(marker)"), .integer(now)])
                _ = try db.run("INSERT INTO lead_addresses VALUES (?, 'b-lead')", [.text("lead.\(marker.lowercased())@b.example")])
                _ = try db.run("INSERT INTO opportunities VALUES ('b-opp', 'b-lead', ?, 1, ?)", [.text("Deal \(marker)"), .integer(now)])
                _ = try db.run("""
                    INSERT INTO mailboxes(id, user_id, email_address, provider, auth_method, imap_host, imap_port, imap_security,
                        smtp_host, smtp_port, smtp_security, username, secret, status, status_since, created_at)
                    VALUES ('b-mailbox', 'b-user', ?, 4, 1, ?, 993, 3, ?, 465, 3, ?, ?, 2, ?, ?)
                    """, [.text("box.\(marker.lowercased())@b.example"), .text("imap.\(marker.lowercased()).example"),
                          .text("smtp.\(marker.lowercased()).example"), .text("login-\(marker)"), .blob(sealed), .integer(now), .integer(now)])
                _ = try db.run("INSERT INTO sync_events(id, time, kind, mailbox_id, user_id, status, emails_synced, detail) VALUES ('b-event', ?, 7, 'b-mailbox', 'b-user', 3, 0, ?)",
                               [.integer(now), .text("detail \(marker)")])
                _ = try db.run("""
                    INSERT INTO error_log(id, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, first_seen, last_seen, count)
                    VALUES ('b-error', 'b-mailbox', 'b-user', ?, 1, ?, ?, ?, ?, 1)
                    """, [.text("box.\(marker.lowercased())@b.example"), .text("NO [AUTHENTICATIONFAILED] \(marker)"), .text("fix \(marker)"), .integer(now), .integer(now)])
                _ = try db.run("INSERT INTO timeline_entries VALUES ('b-entry', 'b-lead', 'msgkey', 'b-mailbox', 'b-user', ?, ?, 2, 0)", [.text("Subject \(marker)"), .integer(now)])
                _ = try db.run("INSERT INTO timeline_participants VALUES ('b-entry', 0, 1, ?, ?)", [.text("lead.\(marker.lowercased())@b.example"), .text("Lead \(marker)")])
                _ = try db.run("INSERT INTO opportunity_links VALUES ('b-entry', 'b-opp')")
            }
        }
        m.ids = [
            "company_id": company.id, "user_id": "b-user", "lead_id": "b-lead", "opportunity_id": "b-opp",
            "mailbox_id": "b-mailbox", "key_id": "b-key", "id": "b-lead", "backup_id": "b-backup", "state": "b-state",
        ]
    }

    @Test("every method, called with company A's keys and company B's ids, returns nothing of B")
    func everyMethod() async throws {
        let harness = try await ServiceHarness.start()
        let probe = try SchemaProbe()
        let companyA = try await harness.makeCompany(name: "Alpha")
        var markers = Markers()
        let companyB = try await harness.makeCompany(name: "Bravo \(markers.marker)")
        try await Self.seedCompanyB(harness, companyB, &markers)

        // A's callers: its administrator (sees most), and a salesperson.
        let tenantA = TenantID(validating: companyA.id)!
        let now = harness.clock.now().microsecondsSinceEpoch
        try await harness.server.environment!.tenants.withTenant(tenantA) { lease in
            try await lease.write { db in
                _ = try db.run("INSERT INTO users VALUES ('a-seller', 'Seller A', 'seller@a.example', 5, 1, ?)", [.integer(now)])
            }
        }
        let sellerKey = try await harness.key(company: companyA.id, user: "a-seller")
        let transport = TCPClientTransport(host: "127.0.0.1", port: harness.port)
        var calls = 0
        for key in [companyA.adminKey, sellerKey] {
            for method in MailSync.methods {
                let request = probe.request(for: method, ids: markers.ids)
                let outcome = await RawCall.call(method, request: request, transport: transport, key: key)
                for value in markers.values {
                    #expect(!outcome.text.contains(value), "\(method) leaked company B's data: \(outcome.text.prefix(300))")
                }
                calls += 1
            }
        }
        #expect(calls == 2 * MailSync.methods.count)

        // And B's own administrator does see B's data (the markers are real).
        var timeline = ListLeadTimelineRequest()
        timeline.leadId = "b-lead"
        let visible = await RawCall.call(
            MailSync.Method.getCompany, request: { var r = GetCompanyRequest(); r.companyId = companyB.id; return r.serializedBytes() }(),
            transport: transport, key: harness.operatorKey)
        #expect(visible.text.contains(markers.marker))
        transport.close()
        await harness.stop()
    }
}
