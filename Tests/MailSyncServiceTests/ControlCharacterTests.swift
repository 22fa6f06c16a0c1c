import Foundation
import MailSyncClient
import MailSyncRPC
@testable import MailSyncService
import Testing
import TestSupport

/// Control characters (CR LF, NUL, DEL) in secrets, login names, hosts, addresses and header
/// fields are refused with `invalid argument` naming the field, on every RPC that takes them,
/// through the generated client. A password with CR LF never reaches an IMAP server.
@Suite("Control characters in request fields", .timeLimit(.minutes(5)))
struct ControlCharacterTests {
    static let controls = ["\r\n", "\u{0}", "\u{7f}"]

    /// The status of `call`, which must fail.
    static func refusal(_ call: () async throws -> Void) async -> RPCError? {
        do {
            try await call()
            return nil
        } catch {
            return error as? RPCError
        }
    }

    static func expectRefused(_ field: String, _ control: String, _ call: () async throws -> Void) async {
        let error = await refusal(call)
        #expect(error?.code == .invalidArgument, "\(field) with \(control.debugDescription): \(String(describing: error))")
        #expect(error?.message.contains("\(field) must not contain control characters") == true,
                "\(field) with \(control.debugDescription): \(String(describing: error))")
    }

    @Test("CreateMailboxConnection and UpdateMailboxCredentials: secret, username, email_address and the hosts; no IMAP connection is ever made with such a password", arguments: controls)
    func mailboxFields(_ control: String) async throws {
        try await TarpitServer.with { imap in
            let harness = try await ServiceHarness.start()
            do {
                let company = try await harness.makeCompany(domains: ["acme.example"])
                let admin = company.admin
                for (field, change) in [
                    ("secret", { (r: inout CreateMailboxConnectionRequest) in r.secret = "s3cret\(control)a2 LOGOUT" }),
                    ("username", { $0.username = "alice\(control)x" }),
                    ("email_address", { $0.emailAddress = "alice\(control)@acme.example" }),
                    ("imap.host", { $0.imap?.host = "imap\(control).acme.example" }),
                    ("smtp.host", { $0.smtp?.host = "smtp.acme.example\(control)" }),
                ] {
                    await Self.expectRefused(field, control) {
                        var request = SmartMailFixture.connectRequest(email: "alice@acme.example", username: "alice", smtpPort: 2525, secret: "s3cret")
                        request.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(imap.port), .none)
                        change(&request)
                        _ = try await admin.createMailboxConnection(request)
                    }
                }
                // Nothing was stored, so a sync round has nothing to log in to the listener with.
                let stored = try await MailboxFixtures.tenantRead(harness, company) { try $0.scalar("SELECT count(*) FROM mailboxes")?.int64 }
                #expect(stored == 0)
                await harness.runSyncs()
                #expect(imap.accepted == 0)

                // A mailbox that exists (its IMAP side on a closed port: never contacted here).
                let mailbox = try await admin.createMailboxConnection(
                    SmartMailFixture.connectRequest(email: "alice@acme.example", username: "alice", smtpPort: 2525, secret: "s3cret"))
                for (field, change) in [
                    ("secret", { (r: inout UpdateMailboxCredentialsRequest) in r.secret = "new\(control)a2 LOGOUT" }),
                    ("username", { $0.username = "alice\(control)" }),
                    ("imap.host", { $0.imap = MailboxFixtures.endpoint("imap\(control).acme.example", 993, .tls) }),
                    ("smtp.host", { $0.smtp = MailboxFixtures.endpoint("smtp\(control).acme.example", 465, .tls) }),
                ] {
                    await Self.expectRefused(field, control) {
                        var request = UpdateMailboxCredentialsRequest()
                        request.mailboxId = mailbox.id
                        change(&request)
                        _ = try await admin.updateMailboxCredentials(request)
                    }
                }
            } catch {
                await harness.stop()
                throw error
            }
            await harness.stop()
        }
    }

    @Test("SendSmartMail (to, cc, subject), CreateUser (email, name), UpdateCompanySettings (domains) and UpsertLeads (addresses)", arguments: controls)
    func otherFields(_ control: String) async throws {
        try await SmartMailFixture.with { fixture in
            let admin = fixture.company.admin
            for (field, change) in [
                ("to[0]", { (r: inout SendSmartMailRequest) in r.to = ["lead\(control)@customer.example"] }),
                ("cc[0]", { $0.cc = ["boss@customer.example\(control)"] }),
                ("subject", { $0.subject = "Offer\(control)Bcc: everyone@example.com" }),
            ] {
                await Self.expectRefused(field, control) {
                    var request = SmartMailFixture.request()
                    change(&request)
                    _ = try await admin.sendSmartMail(request)
                }
            }
            #expect(try fixture.smtp.messages().isEmpty)

            for (field, change) in [
                ("email", { (r: inout CreateUserRequest) in r.email = "bob\(control)@acme.example" }),
                ("name", { $0.name = "Bob\(control)Smith" }),
            ] {
                await Self.expectRefused(field, control) {
                    var request = CreateUserRequest()
                    request.name = "Bob"
                    request.email = "bob@acme.example"
                    request.role = .salesperson
                    change(&request)
                    _ = try await admin.createUser(request)
                }
            }

            await Self.expectRefused("email_domains.domains[0]", control) {
                var request = UpdateCompanySettingsRequest()
                var domains = EmailDomains()
                domains.domains = ["acme\(control).example"]
                request.emailDomains = domains
                _ = try await admin.updateCompanySettings(request)
            }

            let response = try await admin.upsertLeads { writer in
                var lead = Lead()
                lead.id = "lead-ctl"
                lead.name = "Lead"
                lead.emailAddresses = ["x\(control)@customer.example"]
                try await writer.write(lead)
            }
            #expect(response.rejections.count == 1)
            #expect(response.rejections.first?.reason.contains("email_addresses[0] must not contain control characters") == true)
        }
    }
}
