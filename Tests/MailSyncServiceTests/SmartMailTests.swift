import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncIMAP
import MailSyncMailTransport
import MailSyncRPC
@testable import MailSyncService
import MailSyncStorage
@testable import MailSyncTenantData
import TestSupport
import Testing

/// SendSmartMail end to end: the server builds the message, sends it through a real SMTP server on
/// 127.0.0.1 (aiosmtpd) and records it; refusals are logged and reported, nothing recorded.
@Suite("Smart Mail", .timeLimit(.minutes(5)))
struct SmartMailTests {
    /// The header block of `bytes`, unfolded: name (lower-cased) → value.
    static func headers(_ bytes: [UInt8]) -> [String: String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n ", with: " ")
        var result: [String: String] = [:]
        for line in head.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            result[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].dropFirst())
        }
        return result
    }

    static func status(_ error: any Error) -> RPCError? { error as? RPCError }

    @Test("a Smart Mail arrives byte for byte as recorded, UTF-8 subject and name encoded, on the lead's timeline as sent and linked to the opportunity")
    func sendsAndRecords() async throws {
        try await SmartMailFixture.with { fixture in
            let adminID = fixture.company.adminUserID
            try await MailboxFixtures.tenantWrite(fixture.harness, fixture.company) { db in
                try db.run("UPDATE users SET name = 'Zoë Ågren' WHERE id = ?", [.text(adminID)])
            }
            let subject = "Angebot für Köln – 日本 ✓"
            let request = SmartMailFixture.request(
                subject: subject, text: "Guten Tag,\nhier ist unser Angebot.\n.\nGrüße\n", html: "<p>Guten Tag</p>",
                cc: [SmartMailFixture.otherLeadAddress], opportunity: "opp-won")
            let response = try await fixture.company.admin.sendSmartMail(request)

            // What arrived: exactly what the server recorded as sent.
            let received = try fixture.smtp.messages()
            try #require(received.count == 1)
            let mail = received[0]
            #expect(mail.mailFrom == SmartMailFixture.owner)
            #expect(mail.recipients == [SmartMailFixture.leadAddress, SmartMailFixture.otherLeadAddress])
            #expect(mail.login == "alice")
            #expect(response.messageId.hasPrefix("<") && response.messageId.hasSuffix("@acme.example>"))
            let key = "mid:" + response.messageId.dropFirst().dropLast()
            #expect(try await fixture.storedRaw(key: key) == mail.data)
            let headers = Self.headers(mail.data)
            #expect(headers["message-id"] == response.messageId)
            #expect(headers["subject"]?.hasPrefix("=?UTF-8?B?") == true)
            #expect(RFC2047.decode(headers["subject"] ?? "") == subject)
            #expect(RFC2047.decode(headers["from"] ?? "") == "Zoë Ågren <alice@acme.example>")
            #expect(headers["to"] == SmartMailFixture.leadAddress)
            #expect(headers["cc"] == SmartMailFixture.otherLeadAddress)
            #expect(headers["date"] == RFC5322Date.format(Date(timeIntervalSince1970: fixture.harness.clock.now().secondsSinceEpoch)))
            #expect(headers["content-type"]?.hasPrefix("multipart/alternative;") == true)
            #expect(response.sentAt == fixture.harness.clock.now())

            // Recorded: one entry per lead, sent, Smart Mail, with the participants and the links.
            let entries = try await fixture.timeline("lead-1")
            try #require(entries.count == 1)
            let entry = entries[0]
            #expect(entry.id == response.timelineEntryId)
            #expect(entry.smartMail)
            #expect(entry.direction == .sent)
            #expect(entry.subject == subject)
            #expect(entry.mailboxId == fixture.mailboxID)
            #expect(entry.userIds == [adminID])
            #expect(entry.opportunityIds == ["opp-open", "opp-won"])
            #expect(entry.participants.map { "\($0.kind.rawValue) \($0.address)" }
                == ["1 alice@acme.example", "2 lead@customer.example", "3 other@customer.example"])
            #expect(entry.participants.first?.displayName == "Zoë Ågren")
            #expect(entry.bodyText?.contains("hier ist unser Angebot.") == true)
            let other = try await fixture.timeline("lead-2")
            #expect(other.map(\.smartMail) == [true])
            #expect(other.first?.opportunityIds == ["opp-other"])

            let sent = try await fixture.events([.smartMailSent])
            #expect(sent.count == 1)
            #expect(sent.first?.detail.contains(subject) == true)
            #expect(try await fixture.events([.emailRecorded]).isEmpty)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages WHERE message_key = '\(key)' AND mailbox_id = '\(fixture.mailboxID)'") == 1)
        }
    }

    @Test("an idempotency key: a repeat sends nothing and gets the first answer; another mail under it, a bad key, a send in flight and one the server stopped during are refused; after 24 hours the key is free")
    func idempotencyKey() async throws {
        try await SmartMailFixture.with { fixture in
            let admin = fixture.company.admin
            var request = SmartMailFixture.request(subject: "Once only")
            request.idempotencyKey = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
            let first = try await admin.sendSmartMail(request)
            let again = try await admin.sendSmartMail(request)
            #expect(again == first)
            #expect(try fixture.smtp.messages().count == 1)
            #expect(try await fixture.timeline("lead-1").count == 1)

            var other = request
            other.subject = "Something else"
            await #expect { _ = try await admin.sendSmartMail(other) } throws: {
                Self.status($0)?.code == .invalidArgument && "\($0)".contains("different Smart Mail")
            }
            var bad = request
            bad.idempotencyKey = "no spaces please"
            await #expect { _ = try await admin.sendSmartMail(bad) } throws: { Self.status($0)?.code == .invalidArgument }

            // A claim without an answer: still sending for 210 s (queue wait, connect, send), then interrupted.
            let userID = fixture.company.adminUserID
            let now = fixture.harness.clock.now().microsecondsSinceEpoch
            let hash = SmartMailSends.requestHash(request)
            try await MailboxFixtures.tenantWrite(fixture.harness, fixture.company) { db in
                try db.run("INSERT INTO smart_mail_sends(user_id, idempotency_key, request_hash, started_at) VALUES (?, 'k-pending', ?, ?)",
                           [.text(userID), .text(hash), .integer(now)])
            }
            var pending = request
            pending.idempotencyKey = "k-pending"
            await #expect { _ = try await admin.sendSmartMail(pending) } throws: { Self.status($0)?.code == .aborted }
            fixture.harness.clock.advance(seconds: 150)
            await #expect { _ = try await admin.sendSmartMail(pending) } throws: { Self.status($0)?.code == .aborted }
            fixture.harness.clock.advance(seconds: 61)
            await #expect { _ = try await admin.sendSmartMail(pending) } throws: {
                Self.status($0)?.code == .failedPrecondition && "\($0)".contains("Sent folder")
            }
            #expect(try fixture.smtp.messages().count == 1)

            // Keys last 24 hours from their first request.
            fixture.harness.clock.advance(seconds: 24 * 3600)
            let later = try await admin.sendSmartMail(request)
            #expect(later.messageId != first.messageId)
            #expect(try fixture.smtp.messages().count == 2)
        }
    }

    @Test("an idempotency key is released when the mail was not sent, so the retry after the fix sends it once")
    func idempotencyKeyAfterRefusal() async throws {
        try await SmartMailFixture.with(mailboxPassword: "wrong") { fixture in
            let admin = fixture.company.admin
            var request = SmartMailFixture.request(subject: "After the fix")
            request.idempotencyKey = "retry-1"
            await #expect { _ = try await admin.sendSmartMail(request) } throws: { Self.status($0)?.code == .failedPrecondition }
            #expect(try fixture.smtp.messages().isEmpty)
            var update = UpdateMailboxCredentialsRequest()
            update.mailboxId = fixture.mailboxID
            update.secret = SmartMailFixture.password
            _ = try await admin.updateMailboxCredentials(update)
            let sent = try await admin.sendSmartMail(request)
            #expect(try await admin.sendSmartMail(request) == sent)
            #expect(try fixture.smtp.messages().count == 1)
            #expect(try await fixture.count("SELECT count(*) FROM smart_mail_sends WHERE message_id IS NOT NULL") == 1)
        }
    }

    @Test("a wrong password: failed precondition with the server's words and the fix; nothing recorded; the error log has both")
    func wrongPassword() async throws {
        try await SmartMailFixture.with(mailboxPassword: "wrong") { fixture in
            await #expect {
                _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request())
            } throws: { error in
                guard let status = Self.status(error) else { return false }
                return status.code == .failedPrecondition
                    && status.message.contains("535 5.7.8 Username and Password not accepted.")
                    && status.message.contains("did not accept the user name or password")
            }
            #expect(try fixture.smtp.messages().isEmpty)
            #expect(try await fixture.timeline("lead-1").isEmpty)
            #expect(try await fixture.count("SELECT count(*) FROM messages") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 0)
            #expect(try await fixture.events([.smartMailSent]).isEmpty)
            let log = try await fixture.errorLog()
            try #require(log.count == 1)
            #expect(log[0].serverText == "535 5.7.8 Username and Password not accepted.")
            #expect(log[0].errorClass == .authentication)
            #expect(log[0].fixHint.contains("app password"))
            #expect(try await fixture.events([.error]).first?.detail.contains("535 5.7.8") == true)
            // The mailbox's sync status is not the Smart Mail's business.
            #expect(try await fixture.company.admin.getMailboxStatus(MailboxFixtures.get(fixture.mailboxID)).mailbox.status == .enabled)
        }
    }

    @Test("server refusals map to their fixes and statuses", arguments: [
        (SMTPServer.Failure(.mail, "554 5.2.252 SendAsDenied; alice@acme.example not allowed to send as alice@acme.example; STOREDRV.Submission.Exception"),
         StatusCode.failedPrecondition, "not allowed to send as the From address"),
        (SMTPServer.Failure(.mail, "550 5.7.60 SMTP; Client does not have permissions to send as this sender"),
         .failedPrecondition, "not allowed to send as the From address"),
        (SMTPServer.Failure(.data, "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550 5.4.5 sending limits go to https://support.google.com/a/answer/166852"),
         .unavailable, "daily sending limit"),
        (SMTPServer.Failure(.auth, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."),
         .failedPrecondition, "Authenticated SMTP"),
        (SMTPServer.Failure(.auth, "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor"),
         .failedPrecondition, "app password"),
    ])
    func refusals(_ failure: SMTPServer.Failure, code: StatusCode, hint: String) async throws {
        try await SmartMailFixture.with(smtp: SMTPServer.Options(failure: failure)) { fixture in
            let serverText = failure.reply.replacingOccurrences(of: "\r\n", with: "\n")
            await #expect {
                _ = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request())
            } throws: { error in
                guard let status = Self.status(error) else { return false }
                return status.code == code && status.message.contains(serverText) && status.message.contains(hint)
            }
            #expect(try await fixture.timeline("lead-1").isEmpty)
            let log = try await fixture.errorLog()
            #expect(log.map(\.serverText) == [serverText])
            #expect(log.first?.fixHint.contains(hint) == true)
        }
    }

    @Test("everyone sends only through their own mailbox: without one, failed precondition and nothing sent; with one, theirs")
    func ownMailboxOnly() async throws {
        let users = [SMTPServer.User("alice", SmartMailFixture.password), SMTPServer.User("bob", "bobs-password")]
        try await SmartMailFixture.with(smtp: SMTPServer.Options(users: users)) { fixture in
            let seller = try await MailboxFixtures.makeUser(fixture.harness, fixture.company, id: "seller-1", role: .salesperson)
            await #expect {
                _ = try await seller.client.sendSmartMail(SmartMailFixture.request())
            } throws: { error in
                Self.status(error)?.code == .failedPrecondition && Self.status(error)?.message.contains("no connected mailbox") == true
            }
            #expect(try fixture.smtp.messages().isEmpty)

            let mailbox = try await seller.client.createMailboxConnection(SmartMailFixture.connectRequest(
                email: "bob@acme.example", username: "bob", smtpPort: fixture.smtp.port, secret: "bobs-password"))
            let response = try await seller.client.sendSmartMail(SmartMailFixture.request(subject: "From Bob"))
            let received = try fixture.smtp.messages()
            #expect(received.map(\.login) == ["bob"])
            #expect(received.map(\.mailFrom) == ["bob@acme.example"])
            let entry = try await fixture.timeline("lead-1").first
            #expect(entry?.id == response.timelineEntryId)
            #expect(entry?.mailboxId == mailbox.id)
            #expect(entry?.userId == "seller-1")
        }
    }

    @Test("requests that cannot be sent: unknown lead or opportunity, another lead's opportunity, no body, bad addresses, a disabled mailbox")
    func refusedRequests() async throws {
        try await SmartMailFixture.with { fixture in
            let admin = fixture.company.admin
            func expectCode(_ code: StatusCode, _ request: SendSmartMailRequest, sourceLocation: SourceLocation = #_sourceLocation) async {
                await #expect(sourceLocation: sourceLocation) {
                    _ = try await admin.sendSmartMail(request)
                } throws: { error in
                    Self.status(error)?.code == code
                }
            }
            await expectCode(.notFound, SmartMailFixture.request(lead: "no-such-lead"))
            await expectCode(.notFound, SmartMailFixture.request(opportunity: "no-such-opportunity"))
            await expectCode(.failedPrecondition, SmartMailFixture.request(opportunity: "opp-other"))
            await expectCode(.invalidArgument, SmartMailFixture.request(text: "", html: ""))
            await expectCode(.invalidArgument, SmartMailFixture.request(to: ["not an address"]))
            await expectCode(.invalidArgument, SmartMailFixture.request(to: ["jörg@customer.example"]))
            await expectCode(.invalidArgument, SmartMailFixture.request(cc: ["lead@customer.example\r\nBcc: x@evil.example"]))
            await expectCode(.invalidArgument, SmartMailFixture.request(subject: "Hi\r\nBcc: x@evil.example"))
            _ = try await admin.disableMailbox(MailboxFixtures.disable(fixture.mailboxID, .keep))
            await expectCode(.failedPrecondition, SmartMailFixture.request())
            #expect(try fixture.smtp.messages().isEmpty)
            #expect(try await fixture.timeline("lead-1").isEmpty)
        }
    }

    @Test("the sync later finds the same message in the Sent folder and does not record it again")
    func sentFolderSyncRecordsNothingTwice() async throws {
        try await SMTPServer.withServer { smtp in
            try await SyncFixture.with(leads: [(id: "lead-1", address: SmartMailFixture.leadAddress)]) { fixture in
                var update = UpdateMailboxCredentialsRequest()
                update.mailboxId = fixture.mailboxID
                update.smtp = MailboxFixtures.endpoint("127.0.0.1", UInt32(smtp.port), .none)
                _ = try await fixture.company.admin.updateMailboxCredentials(update)
                let response = try await fixture.company.admin.sendSmartMail(SmartMailFixture.request(subject: "Smart offer"))
                let sent = try #require(try smtp.messages().first).data

                // The provider filed the sent message in Sent; one more sent mail is there too, so
                // the sync visibly reads the folder.
                try await fixture.dovecot.append(user: "alice", folder: "Sent", message: sent, date: fixture.daysAgo(0.5))
                try await fixture.deliver(from: SyncFixture.owner, to: SmartMailFixture.leadAddress, subject: "Follow-up",
                                          messageID: "follow-up@acme.example", folder: "Sent", date: fixture.daysAgo(0.4))
                #expect(await fixture.harness.runSyncs() == 1)
                #expect(try await fixture.status().mailbox.status == .enabled)

                let entries = try await fixture.timeline("lead-1")
                #expect(entries.map(\.subject).sorted() == ["Follow-up", "Smart offer"])
                #expect(entries.first { $0.subject == "Smart offer" }?.id == response.timelineEntryId)
                #expect(entries.first { $0.subject == "Smart offer" }?.smartMail == true)
                #expect(entries.first { $0.subject == "Follow-up" }?.smartMail == false)
                #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == 2)
                #expect(try await fixture.events([.emailRecorded]).count == 1)
                #expect(try await fixture.events([.smartMailSent]).count == 1)
            }
        }
    }
}
