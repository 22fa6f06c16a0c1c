import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData

/// Two companies on one server for tenant isolation tests: A, whose keys make the calls, and B,
/// whose data must never reach A nor be touched by A's calls.
///
/// B is seeded through the real RPCs wherever one creates the row — the company and its
/// administrator (`CreateCompany`), two API keys (`CreateApiKey`), a salesperson (`CreateUser`),
/// a lead with two addresses (`UpsertLeads`), an opportunity (`UpsertOpportunities`), the
/// salesperson's mailbox (`CreateMailboxConnection`, which writes its sync events), an OAuth
/// sign-in in progress (`StartOAuthConnection`, a real state) and a backup (`BackupTenant`) — and
/// in SQL only where no RPC can: a timeline entry (participants, source, opportunity link, body)
/// and an error log entry. Every text field of B carries ``Marker/lower`` and ``Marker/upper``
/// (addresses and hosts too, in the parts the server keeps as written). Ids carry no marker: a
/// caller may see the ids it sent echoed back; ids it did not send are checked separately
/// (``secrets``).
///
/// A has a salesperson with a mailbox of their own (on a public-looking host; nothing syncs: the
/// harness's background loop is off) and a lead, so A's lists are not empty.
struct IsolationFixture {
    /// B's marker, e.g. `zzbmark1a2b3c4d5e` and `ZZBMARK1A2B3C4D5E`.
    struct Marker {
        let lower: String
        var upper: String { lower.uppercased() }
        /// Both cases, as every text field of B holds them.
        var both: String { "\(lower) \(upper)" }

        init() { lower = "zzbmark" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased() }

        /// An address keeping both cases: the local part is stored as written, the domain lowered.
        func email(_ who: String) -> String { "\(who).\(lower).\(upper)@\(lower).example" }
        func host(_ service: String) -> String { "\(service).\(upper).\(lower).example" }
    }

    struct CompanyA {
        let id: String
        let adminKey: String
        let sellerID: String
        let sellerKey: String
        let sellerMailboxID: String
        let leadID: String
    }

    struct CompanyB {
        let id: String
        let adminID: String
        let adminKey: String
        let admin: MailSync.Client
        let sellerID: String
        let keyID: String
        let leadID: String
        let opportunityID: String
        let mailboxID: String
        let oauthState: String
        let backupID: String
        /// Ids and secrets of B that no request of A's names (see ``secrets``).
        let hidden: [String: String]
    }

    let harness: ServiceHarness
    let marker: Marker
    let a: CompanyA
    let b: CompanyB
    /// The essential plan's caps, for a `SetCompanyLimits` request that passes validation.
    let essentialCaps: PlanCaps

    /// B's real ids by request field, as ``SchemaProbe/request(for:ids:)`` looks them up.
    var bIDs: [String: String] {
        [
            "company_id": b.id, "user_id": b.sellerID, "key_id": b.keyID, "lead_id": b.leadID,
            "opportunity_id": b.opportunityID, "mailbox_id": b.mailboxID, "backup_id": b.backupID,
            "state": b.oauthState,
            "CreateUserRequest.id": b.sellerID, "Lead.id": b.leadID, "Opportunity.id": b.opportunityID,
        ]
    }

    /// Everything of B's that must never reach A: its ids (a call that names one may get it back;
    /// the others are checked against every answer), its keys' secrets, its backup's checksum.
    var secrets: [String: String] {
        var all = b.hidden
        // One name per id: the plain field name before the qualified ones.
        for (field, value) in bIDs.sorted(by: { ($0.key.contains(".") ? "1" : "0") + $0.key < ($1.key.contains(".") ? "1" : "0") + $1.key })
        where !all.values.contains(value) {
            all[field] = value
        }
        return all
    }

    /// The OAuth client the server has for GMAIL (no token endpoint is ever reached: nothing here
    /// completes a sign-in).
    static let providers: [String: ProviderSettings] = {
        var gmail = ProviderSettings()
        gmail.oauthClientId = "isolation-client"
        gmail.oauthClientSecret = ConfigSecret("isolation-client-secret")
        gmail.authorizationEndpoint = "https://accounts.provider.example/o/oauth2/auth"
        gmail.tokenEndpoint = "https://accounts.provider.example/token"
        return ["GMAIL": gmail]
    }()

    static func start() async throws -> IsolationFixture {
        let harness = try await ServiceHarness.start(providers: providers)
        do {
            let marker = Marker()
            let a = try await seedA(harness)
            let b = try await seedB(harness, marker)
            let plans = try await harness.operatorClient.listPlans(ListPlansRequest())
            guard let caps = plans.plans.first(where: { $0.plan == .essential })?.caps else {
                throw FixtureError("ListPlans has no essential plan")
            }
            return IsolationFixture(harness: harness, marker: marker, a: a, b: b, essentialCaps: caps)
        } catch {
            await harness.stop()
            throw error
        }
    }

    func stop() async { await harness.stop() }

    /// Runs `body` with a started fixture and a recording relay to its server, and stops both
    /// afterwards, whether `body` returns or throws.
    static func with(_ body: (IsolationFixture, WireRecorder) async throws -> Void) async throws {
        let fixture = try await start()
        let recorder: WireRecorder
        do {
            recorder = try WireRecorder(target: fixture.harness.port)
        } catch {
            await fixture.stop()
            throw error
        }
        do {
            try await body(fixture, recorder)
        } catch {
            recorder.stop()
            await fixture.stop()
            throw error
        }
        recorder.stop()
        await fixture.stop()
    }

    /// A's administrator, a salesperson with a key and a mailbox, and a lead.
    static func seedA(_ harness: ServiceHarness) async throws -> CompanyA {
        let company = try await harness.makeCompany(name: "Alpha zzamark", domains: ["alpha.example"])
        let sellerID = "a-seller-\(UUID().uuidString.prefix(8).lowercased())"
        var user = CreateUserRequest()
        user.id = sellerID
        user.name = "Seller of Alpha"
        user.email = "seller@alpha.example"
        user.role = .salesperson
        _ = try await company.admin.createUser(user)
        let sellerKey = try await harness.key(company: company.id, user: sellerID)
        var connect = CreateMailboxConnectionRequest()
        connect.emailAddress = "seller@alpha.example"
        connect.provider = .customImap
        connect.imap = endpoint("imap.alpha.example", 993)
        connect.smtp = endpoint("smtp.alpha.example", 465)
        connect.secret = "alpha-password"
        let mailbox = try await harness.client(key: sellerKey).createMailboxConnection(connect)
        let leadID = "a-lead-\(UUID().uuidString.prefix(8).lowercased())"
        let upserted = try await company.admin.upsertLeads { writer in
            var lead = Lead()
            lead.id = leadID
            lead.name = "Lead of Alpha"
            lead.emailAddresses = ["buyer@alpha-client.example"]
            try await writer.write(lead)
        }
        guard upserted.created == 1 else { throw FixtureError("A's lead was not created: \(upserted)") }
        return CompanyA(id: company.id, adminKey: company.adminKey, sellerID: sellerID, sellerKey: sellerKey,
                        sellerMailboxID: mailbox.id, leadID: leadID)
    }

    static func seedB(_ harness: ServiceHarness, _ m: Marker) async throws -> CompanyB {
        let operatorClient = harness.operatorClient
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let adminID = "b-admin-\(suffix)"
        var create = CreateCompanyRequest()
        create.name = "Bravo \(m.both)"
        create.plan = .essential
        create.timeZone = "Europe/Berlin"
        create.emailDomains = ["\(m.lower).example"]
        create.administrator.id = adminID
        create.administrator.name = "Admin \(m.both)"
        create.administrator.email = m.email("admin")
        let company = try await operatorClient.createCompany(create)

        func key(user: String, label: String) async throws -> CreateApiKeyResponse {
            var request = CreateApiKeyRequest()
            request.companyId = company.id
            request.userId = user
            request.label = "\(label) \(m.both)"
            return try await operatorClient.createApiKey(request)
        }
        let adminKey = try await key(user: adminID, label: "CRM backend")
        let admin = harness.client(key: adminKey.secret)

        let sellerID = "b-seller-\(suffix)"
        var user = CreateUserRequest()
        user.id = sellerID
        user.name = "Seller \(m.both)"
        user.email = m.email("seller")
        user.role = .salesperson
        _ = try await admin.createUser(user)
        let sellerKey = try await key(user: sellerID, label: "Seller's phone")

        let leadID = "b-lead-\(suffix)"
        let leads = try await admin.upsertLeads { writer in
            var lead = Lead()
            lead.id = leadID
            lead.name = "Lead \(m.both)"
            lead.companyName = "LeadCo \(m.both)"
            lead.emailAddresses = [m.email("lead"), m.email("lead.second")]
            try await writer.write(lead)
        }
        guard leads.created == 1 else { throw FixtureError("B's lead was not created: \(leads)") }
        let opportunityID = "b-opp-\(suffix)"
        var opportunities = UpsertOpportunitiesRequest()
        var opportunity = Opportunity()
        opportunity.id = opportunityID
        opportunity.leadId = leadID
        opportunity.name = "Deal \(m.both)"
        opportunity.status = .open
        opportunities.opportunities = [opportunity]
        let upserted = try await admin.upsertOpportunities(opportunities)
        guard upserted.created == 1 else { throw FixtureError("B's opportunity was not created: \(upserted)") }

        var connect = CreateMailboxConnectionRequest()
        connect.userId = sellerID
        connect.emailAddress = m.email("seller")
        connect.provider = .customImap
        connect.imap = endpoint(m.host("imap"), 993)
        connect.smtp = endpoint(m.host("smtp"), 465)
        connect.username = "login.\(m.lower).\(m.upper)"
        connect.secret = "password-\(m.lower)-\(m.upper)"
        let mailbox = try await admin.createMailboxConnection(connect)

        var oauth = StartOAuthConnectionRequest()
        oauth.provider = .gmail
        oauth.userId = sellerID
        oauth.redirectUri = "https://crm.\(m.lower).example/\(m.upper)/callback"
        oauth.loginHint = m.email("hint")
        let started = try await admin.startOAuthConnection(oauth)

        let seeded = try await seedSQL(harness, company: company.id, m, leadID: leadID, opportunityID: opportunityID,
                                       mailboxID: mailbox.id, sellerID: sellerID)

        var backupRequest = BackupTenantRequest()
        backupRequest.companyId = company.id
        backupRequest.force = true
        let backup = try await operatorClient.backupTenant(backupRequest)

        var events = ListSyncEventsRequest()
        events.pageSize = 100
        let eventIDs = try await admin.listSyncEvents(events).events.map(\.id)
        guard eventIDs.count >= 2 else { throw FixtureError("B's mailbox wrote \(eventIDs.count) events, expected at least 2") }
        var hidden: [String: String] = [
            "B's administrator": adminID, "B's administrator's key id": adminKey.key.id,
            "B's administrator's key": adminKey.secret, "B's salesperson's key": sellerKey.secret,
            "B's backup checksum": backup.sha256, "B's timeline entry": seeded.entryID, "B's error": seeded.errorID,
        ]
        for (i, id) in eventIDs.enumerated() { hidden["B's event \(i)"] = id }
        return CompanyB(
            id: company.id, adminID: adminID, adminKey: adminKey.secret, admin: admin, sellerID: sellerID,
            keyID: sellerKey.key.id, leadID: leadID, opportunityID: opportunityID, mailboxID: mailbox.id,
            oauthState: started.state, backupID: backup.id, hidden: hidden)
    }

    /// What no RPC creates: a synced email on B's lead (with participants, its source mailbox, the
    /// opportunity link and a body) and an error log entry of B's mailbox.
    static func seedSQL(
        _ harness: ServiceHarness, company: String, _ m: Marker, leadID: String, opportunityID: String,
        mailboxID: String, sellerID: String
    ) async throws -> (entryID: String, errorID: String) {
        guard let tenant = TenantID(validating: company) else { throw FixtureError("'\(company)' is not a tenant id") }
        let entryID = UUID().uuidString.lowercased()
        let errorID = UUID().uuidString.lowercased()
        let messageKey = "<\(UUID().uuidString.lowercased())@mail.example>"
        let body = TimelineBodies.compress("Body \(m.both)")
        let now = harness.clock.now().microsecondsSinceEpoch
        try await harness.server.environment!.tenants.withTenant(tenant) { lease in
            try await lease.write { db in
                try db.run("INSERT INTO messages(message_key, body_zlib, size) VALUES (?, ?, ?)",
                           [.text(messageKey), .blob(body), .integer(Int64(body.count))])
                try db.run("""
                    INSERT INTO timeline_entries(id, lead_id, message_key, mailbox_id, user_id, subject, date, direction, date_source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'received', 'unspecified')
                    """, [.text(entryID), .text(leadID), .text(messageKey), .text(mailboxID), .text(sellerID),
                          .text("Subject \(m.both)"), .integer(now)])
                try db.run("INSERT INTO timeline_sources(entry_id, mailbox_id, user_id, direction) VALUES (?, ?, ?, 'received')",
                           [.text(entryID), .text(mailboxID), .text(sellerID)])
                try db.run("INSERT INTO timeline_participants VALUES (?, 0, 'from', ?, ?)",
                           [.text(entryID), .text(m.email("lead")), .text("Lead \(m.both)")])
                try db.run("INSERT INTO timeline_participants VALUES (?, 1, 'to', ?, ?)",
                           [.text(entryID), .text(m.email("seller")), .text("Seller \(m.both)")])
                try db.run("INSERT INTO opportunity_links VALUES (?, ?)", [.text(entryID), .text(opportunityID)])
                try db.run("""
                    INSERT INTO error_log(id, mailbox_id, user_id, email_address, error_class, server_text, fix_hint, first_seen, last_seen, count)
                    VALUES (?, ?, ?, ?, 'authentication', ?, ?, ?, ?, 1)
                    """, [.text(errorID), .text(mailboxID), .text(sellerID), .text(m.email("seller")),
                          .text("NO [AUTHENTICATIONFAILED] \(m.both)"), .text("Fix \(m.both)"), .integer(now), .integer(now)])
            }
        }
        return (entryID, errorID)
    }

    static func endpoint(_ host: String, _ port: UInt32) -> ServerEndpoint {
        var endpoint = ServerEndpoint()
        endpoint.host = host
        endpoint.port = port
        endpoint.security = .tls
        return endpoint
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
