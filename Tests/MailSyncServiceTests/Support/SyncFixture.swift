import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncEngine
import MailSyncService
import MailSyncStorage
import TestSupport

/// A company whose administrator's mailbox is a real Dovecot account on 127.0.0.1, with leads,
/// for sync engine tests. The mailbox owner is the company administrator; their address is
/// `alice@acme.example` and the Dovecot login is `alice`.
struct SyncFixture: CompanyQueries {
    let harness: ServiceHarness
    let dovecot: DovecotServer
    let company: ServiceHarness.Company
    let mailboxID: String

    static let owner = "alice@acme.example"
    static let password = "s3cret"

    /// Starts Dovecot and the server, makes a company on `plan` (domain `acme.example`) and
    /// connects the administrator's mailbox. Stop with `stop()`.
    static func start(
        plan: Plan = .essential, leads: [(id: String, address: String)] = [], sync: SyncSettings = ServiceHarness.syncSettings(),
        dovecotUsers: [(name: String, password: String)] = [(name: "alice", password: SyncFixture.password)],
        mailboxPassword: String = SyncFixture.password, dovecotOptions: DovecotServer.Options = DovecotServer.Options(),
        configure: (inout ServerSettings) -> Void = { _ in }
    ) async throws -> SyncFixture {
        let dovecot = try await DovecotServer.start(users: dovecotUsers, options: dovecotOptions)
        do {
            let harness = try await ServiceHarness.start(sync: sync, configure: configure)
            let company = try await harness.makeCompany(plan: plan, domains: ["acme.example"])
            if !leads.isEmpty { try await upsertLeads(company, leads) }
            let mailbox = try await company.admin.createMailboxConnection(
                connectRequest(email: owner, username: "alice", port: dovecot.port, secret: mailboxPassword))
            return SyncFixture(harness: harness, dovecot: dovecot, company: company, mailboxID: mailbox.id)
        } catch {
            await dovecot.stop()
            throw error
        }
    }

    static func connectRequest(email: String, username: String, port: Int, secret: String, userID: String = "") -> CreateMailboxConnectionRequest {
        var request = CreateMailboxConnectionRequest()
        request.userId = userID
        request.emailAddress = email
        request.username = username
        request.provider = .customImap
        request.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(port), .none)
        request.secret = secret
        return request
    }

    static func upsertLeads(_ company: ServiceHarness.Company, _ leads: [(id: String, address: String)]) async throws {
        let response = try await company.admin.upsertLeads { writer in
            for (id, address) in leads {
                var lead = Lead()
                lead.id = id
                lead.name = "Lead \(id)"
                lead.emailAddresses = [address]
                try await writer.write(lead)
            }
        }
        precondition(response.rejections.isEmpty, "\(response.rejections)")
    }

    func stop() async {
        await harness.stop()
        await dovecot.stop()
    }

    /// The harness clock's time minus `days`, as a Date (for INTERNALDATE of seeded mail).
    func daysAgo(_ days: Double) -> Date {
        Date(timeIntervalSince1970: harness.clock.now().secondsSinceEpoch - days * 86_400)
    }

    /// Appends a message from `from` to `to` (addresses), with an optional Message-ID.
    @discardableResult
    func deliver(
        from: String, to: String, cc: String? = nil, subject: String, body: String = "Hello.\r\n", messageID: String? = nil,
        folder: String = "INBOX", date: Date? = nil, extraHeaders: String = ""
    ) async throws -> String {
        var text = "From: \(from)\r\nTo: \(to)\r\n"
        if let cc { text += "Cc: \(cc)\r\n" }
        text += "Subject: \(subject)\r\nDate: Mon, 21 Sep 2026 10:00:00 +0000\r\n"
        if let messageID { text += "Message-ID: <\(messageID)>\r\n" }
        text += extraHeaders
        text += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(body)"
        return try await dovecot.append(user: "alice", folder: folder, message: text, date: date ?? daysAgo(1))
    }

    func status() async throws -> MailboxStatusResponse {
        try await company.admin.getMailboxStatus(MailboxFixtures.get(mailboxID))
    }


    /// Moves the clock past the next due time and runs what is due.
    @discardableResult
    func advanceAndSync(seconds: Double) async -> Int {
        harness.clock.advance(seconds: seconds)
        return await harness.runSyncs()
    }
}

extension SyncFixture {
    /// Runs `body` with a started fixture and stops Dovecot and the server afterwards, whether
    /// `body` returns or throws.
    static func with(
        plan: Plan = .essential, leads: [(id: String, address: String)] = [], sync: SyncSettings = ServiceHarness.syncSettings(),
        dovecotUsers: [(name: String, password: String)] = [(name: "alice", password: SyncFixture.password)],
        mailboxPassword: String = SyncFixture.password, dovecotOptions: DovecotServer.Options = DovecotServer.Options(),
        configure: (inout ServerSettings) -> Void = { _ in }, _ body: (SyncFixture) async throws -> Void
    ) async throws {
        let fixture = try await start(
            plan: plan, leads: leads, sync: sync, dovecotUsers: dovecotUsers, mailboxPassword: mailboxPassword,
            dovecotOptions: dovecotOptions, configure: configure)
        do {
            try await body(fixture)
        } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
