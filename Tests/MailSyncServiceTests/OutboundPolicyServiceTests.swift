import Foundation
import MailSyncClient
import MailSyncRPC
import MailSyncService
import Testing
import TestSupport

/// The outbound policy through the real service: what a tenant can aim the server at.
@Suite("Outbound policy: mailboxes cannot aim the server at its own network", .timeLimit(.minutes(2)))
struct OutboundPolicyServiceTests {
    static func connect(_ company: ServiceHarness.Company, host: String, port: UInt32 = 993, security: ConnectionSecurity = .tls) async throws -> Mailbox {
        var request = SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: 993, secret: "pw")
        request.imap = MailboxFixtures.endpoint(host, port, security)
        return try await company.admin.createMailboxConnection(request)
    }

    /// Every spelling the issue found accepted: refused at the request, naming the field, in
    /// words that say nothing about what is behind the address.
    @Test("private, loopback and numeric-form hosts are refused at the request", arguments: [
        "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1", "127.0.0.1", "0.0.0.0", "localhost", "127.1", "2130706433",
        "0x7f000001", "0177.0.0.1",
    ])
    func refusedAtRequest(host: String) async throws {
        let harness = try await ServiceHarness.start(outboundAllow: nil)
        do {
            let company = try await harness.makeCompany()
            await #expect { _ = try await Self.connect(company, host: host) } throws: { error in
                guard let error = error as? RPCError, error.code == .invalidArgument else { return false }
                return error.message.contains("imap.host")
            }
            // The same for a new SMTP server on an existing mailbox.
            let mailbox = try await Self.connect(company, host: "imap.example.com")
            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = mailbox.id
            update.smtp = MailboxFixtures.endpoint(host, 465, .tls)
            await #expect { _ = try await company.admin.updateMailboxCredentials(update) } throws: { error in
                (error as? RPCError).map { $0.code == .invalidArgument && $0.message.contains("smtp.host") } ?? false
            }
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }

    @Test("plain text is refused unless the operator allowed the destination or plain text")
    func plaintext() async throws {
        let harness = try await ServiceHarness.start(outboundAllow: nil)
        do {
            let company = try await harness.makeCompany()
            await #expect { _ = try await Self.connect(company, host: "imap.example.com", port: 143, security: .none) } throws: { error in
                (error as? RPCError).map { $0.code == .invalidArgument && $0.message.contains("imap.security") } ?? false
            }
            _ = try await Self.connect(company, host: "imap.example.com", port: 143, security: .starttls)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }

    /// A mailbox connected while the operator allowed loopback, then the server restarted without
    /// that setting: the sync is refused by the connect-time check before any connection (the
    /// listener counts none), the error log says "not allowed" and nothing else, and the operator's
    /// log names the address and the rule.
    @Test("without the operator's setting, the sync is refused before any connection is made")
    func refusedBeforeConnecting() async throws {
        let listener = try await ConnectionCounter.start()
        let store = CapturingLogHandler.Store()
        let first = try await ServiceHarness.start()
        let dataDirectory = first.dataDirectory
        let company: ServiceHarness.Company
        let mailbox: Mailbox
        do {
            company = try await first.makeCompany()
            mailbox = try await Self.connect(company, host: "127.0.0.1", port: UInt32(listener.port), security: .none)
        } catch {
            await first.stop()
            await listener.stop()
            throw error
        }
        await first.stop(keepData: true)
        let harness = try await ServiceHarness.start(dataDirectory: dataDirectory, logHandler: CapturingLogHandler(store: store), outboundAllow: nil)
        do {
            let admin = harness.client(key: company.adminKey)
            #expect(await harness.runSyncs() == 1)
            #expect(listener.accepted == 0)
            var request = GetMailboxStatusRequest()
            request.mailboxId = mailbox.id
            let status = try await admin.getMailboxStatus(request)
            #expect(status.mailbox.status == .error)
            let error = try #require(status.lastError)
            #expect(error.errorClass == .configuration)
            #expect(error.serverText == "Not allowed by this server's policy (127.0.0.1:\(listener.port))", "\(error.serverText)")
            #expect(error.fixHint.contains("operators"))
            #expect(store.all.contains("outbound policy refused"))
            #expect(store.all.contains("loopback"))
        } catch {
            Issue.record(error)
        }
        await harness.stop()
        await listener.stop()
    }
}
