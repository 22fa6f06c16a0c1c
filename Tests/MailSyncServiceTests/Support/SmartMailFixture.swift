import Foundation
import MailSyncClient
import MailSyncCoding
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import TestSupport

/// A company whose administrator's mailbox (`alice@acme.example`, login `alice`) sends through a
/// real SMTP server on 127.0.0.1 (aiosmtpd), with two leads and their opportunities, for Smart
/// Mail tests. The mailbox's IMAP side points at a closed port and is never synced (no test here
/// runs the scheduler).
///
/// Leads: `lead-1` (`lead@customer.example`) with `opp-open` (open), `opp-won` (won) and
/// `opp-lost` (lost); `lead-2` (`other@customer.example`) with `opp-other` (open).
struct SmartMailFixture: CompanyQueries {
    let harness: ServiceHarness
    let smtp: SMTPServer
    let company: ServiceHarness.Company
    let mailboxID: String

    static let owner = "alice@acme.example"
    static let password = "s3cret"
    static let leadAddress = "lead@customer.example"
    static let otherLeadAddress = "other@customer.example"

    /// Runs `body` with the SMTP server and the Mail Sync server started, and stops both
    /// afterwards, whether `body` returns or throws. `settings` changes the server's settings,
    /// knowing the SMTP server's port.
    static func with(
        smtp options: SMTPServer.Options = SMTPServer.Options(), mailboxPassword: String = password,
        settings: (inout ServerSettings, _ smtpPort: Int) -> Void = { _, _ in },
        _ body: (SmartMailFixture) async throws -> Void
    ) async throws {
        try await SMTPServer.withServer(options: options) { smtp in
            let harness = try await ServiceHarness.start(configure: { settings(&$0, smtp.port) })
            do {
                let company = try await harness.makeCompany(domains: ["acme.example"])
                try await SyncFixture.upsertLeads(company, [(id: "lead-1", address: leadAddress), (id: "lead-2", address: otherLeadAddress)])
                try await upsertOpportunities(company)
                var request = connectRequest(email: owner, username: "alice", smtpPort: smtp.port, secret: mailboxPassword)
                request.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(try DovecotServer.freePort()), .none)
                let mailbox = try await company.admin.createMailboxConnection(request)
                try await body(SmartMailFixture(harness: harness, smtp: smtp, company: company, mailboxID: mailbox.id))
            } catch {
                await harness.stop()
                throw error
            }
            await harness.stop()
        }
    }

    static func connectRequest(email: String, username: String, smtpPort: Int, secret: String) -> CreateMailboxConnectionRequest {
        var request = CreateMailboxConnectionRequest()
        request.emailAddress = email
        request.username = username
        request.provider = .customImap
        request.imap = MailboxFixtures.endpoint("127.0.0.1", 1, .none)
        request.smtp = MailboxFixtures.endpoint("127.0.0.1", UInt32(smtpPort), .none)
        request.secret = secret
        return request
    }

    static func upsertOpportunities(_ company: ServiceHarness.Company) async throws {
        var request = UpsertOpportunitiesRequest()
        for (id, lead, status) in [("opp-open", "lead-1", OpportunityStatus.open), ("opp-won", "lead-1", .won),
                                   ("opp-lost", "lead-1", .lost), ("opp-other", "lead-2", .open)] {
            var opportunity = Opportunity()
            opportunity.id = id
            opportunity.leadId = lead
            opportunity.name = "Deal \(id)"
            opportunity.status = status
            request.opportunities.append(opportunity)
        }
        let response = try await company.admin.upsertOpportunities(request)
        precondition(response.rejections.isEmpty, "\(response.rejections)")
    }

    static func request(
        lead: String = "lead-1", subject: String = "Our offer", text: String = "Hello.\n", html: String = "",
        to: [String] = [], cc: [String] = [], opportunity: String = ""
    ) -> SendSmartMailRequest {
        var request = SendSmartMailRequest()
        request.leadId = lead
        request.subject = subject
        request.textBody = text
        request.htmlBody = html
        request.to = to
        request.cc = cc
        request.opportunityId = opportunity
        return request
    }


    /// The message as stored in `messages.raw_zlib` under `key`.
    func storedRaw(key: String) async throws -> [UInt8]? {
        let stored = try await MailboxFixtures.tenantRead(harness, company) {
            try $0.scalar("SELECT raw_zlib FROM messages WHERE message_key = ?", [.text(key)])?.bytes
        }
        guard let stored, case .success(let text) = TimelineBodies.decompress(stored) else { return nil }
        return Array(text.utf8)
    }
}
