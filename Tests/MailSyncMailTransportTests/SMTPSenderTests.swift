import Foundation
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import Testing
import TestSupport

/// SMTPSender against a real SMTP server on 127.0.0.1 (aiosmtpd, TestSupport/SMTPServer.swift),
/// one per test.
@Suite("SMTPSender over libcurl")
struct SMTPSenderTests {
    static func message(text: String = "Hello.\n") -> MIMEMessage {
        MIMEMessage(
            from: MIMEMessage.Address("alice@acme.example", name: "Zoë Ågren"),
            to: [MIMEMessage.Address("lead@customer.example", name: "José")], cc: [MIMEMessage.Address("boss@customer.example")],
            subject: "Angebot für Köln ✓", textBody: text, htmlBody: "<p>Grüße</p>", date: Date(timeIntervalSince1970: 1_790_000_000))
    }

    static func server(_ smtp: SMTPServer, security: SMTPSender.Security = .none, password: String = "s3cret") -> SMTPSender.Server {
        SMTPSender.Server(
            host: "127.0.0.1", port: smtp.port, security: security, username: "alice", credentials: .password(password),
            tls: SMTPSender.TLSOptions(caFile: smtp.certificatePath), policy: .testLoopback)
    }

    static func send(_ message: MIMEMessage, _ server: SMTPSender.Server) async throws(SMTPError) -> SMTPReceipt {
        let envelope = try! SMTPEnvelope(from: message.from.address, recipients: message.recipients)
        return try await SMTPSender.send(try! message.build(), envelope: envelope, server: server, connectTimeout: .seconds(5), timeout: .seconds(20))
    }

    @Test("plain SMTP with AUTH: the server stores the built message byte for byte (dot-stuffing undone), the envelope and the login")
    func sendsExactBytes() async throws {
        try await SMTPServer.withServer { smtp in
            // Lines that SMTP must dot-stuff: a lone ".", and lines starting with "." and "..".
            let message = Self.message(text: "Hello.\n.\n.hidden\n..two dots\nBye.\n")
            let bytes = try message.build()
            let receipt = try await Self.send(message, Self.server(smtp))
            #expect(receipt.reply?.code == 250)
            #expect(receipt.reply?.text == "OK queued as 0001")
            let received = try smtp.messages()
            try #require(received.count == 1)
            #expect(received[0].data == bytes)
            #expect(received[0].mailFrom == "alice@acme.example")
            #expect(received[0].recipients == ["lead@customer.example", "boss@customer.example"])
            #expect(received[0].login == "alice")
            #expect(received[0].tls == false)
            #expect(received[0].mailOptions == ["SIZE=\(bytes.count)"])
            #expect(!receipt.transcript.joined().contains("s3cret"))
        }
    }

    @Test("STARTTLS (required) and implicit TLS, trusting the test certificate", arguments: [SMTPServer.TLS.starttls, .implicit])
    func tls(_ mode: SMTPServer.TLS) async throws {
        try await SMTPServer.withServer(options: .init(tls: mode)) { smtp in
            let message = Self.message()
            _ = try await Self.send(message, Self.server(smtp, security: mode == .starttls ? .starttls : .tls))
            let received = try smtp.messages()
            try #require(received.count == 1)
            #expect(received[0].tls)
            #expect(received[0].data == (try message.build()))
        }
    }

    @Test("STARTTLS required but the server offers none: a configuration error, no login sent in the clear")
    func startTLSNotOffered() async throws {
        try await SMTPServer.withServer { smtp in
            do throws(SMTPError) {
                _ = try await Self.send(Self.message(), Self.server(smtp, security: .starttls))
                Issue.record("sent without TLS")
            } catch {
                #expect(error.diagnosis.errorClass == .configuration, "\(error)")
                #expect(error.transcript.allSatisfy { !$0.contains("235") })
            }
            let received = try smtp.messages()
            #expect(received.isEmpty)
        }
    }

    @Test("a wrong password: the server's 535 reply, classified as authentication; nothing sent")
    func wrongPassword() async throws {
        try await SMTPServer.withServer { smtp in
            do throws(SMTPError) {
                _ = try await Self.send(Self.message(), Self.server(smtp, password: "wrong"))
                Issue.record("sent with a wrong password")
            } catch {
                #expect(error.failure == .smtp(SMTPReply(code: 535, enhancedStatus: "5.7.8", text: "Username and Password not accepted.")))
                #expect(error.serverText == "535 5.7.8 Username and Password not accepted.")
                #expect(error.diagnosis.errorClass == .authentication)
                #expect(error.diagnosis.rule == "smtp.credentialsRejected")
                #expect(error.curlCode == 67)
            }
            let received = try smtp.messages()
            #expect(received.isEmpty)
        }
    }

    @Test("refusals at each stage keep the server's whole reply and map to their fixes", arguments: [
        (SMTPServer.Failure(.auth, "534-5.7.9 Application-specific password required. Learn more at\r\n534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor"),
         "gmail.appPasswordRequired", ErrorClass.configuration),
        (SMTPServer.Failure(.auth, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."),
         "microsoft.smtpAuthDisabled", .configuration),
        (SMTPServer.Failure(.mail, "554 5.2.252 SendAsDenied; alice@acme.example not allowed to send as alice@acme.example"),
         "microsoft.sendAsDenied", .configuration),
        (SMTPServer.Failure(.rcpt, "550 5.1.1 The email account that you tried to reach does not exist."),
         "generic.smtp.permanent", .configuration),
        (SMTPServer.Failure(.data, "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550 5.4.5 sending limits go to https://support.google.com/a/answer/166852"),
         "gmail.dailySendingLimit", .temporary),
        (SMTPServer.Failure(.data, "451 4.3.0 Mail server temporarily rejected message."), "generic.smtp.transient", .temporary),
    ])
    func refusals(_ failure: SMTPServer.Failure, rule: String, errorClass: ErrorClass) async throws {
        try await SMTPServer.withServer(options: .init(failure: failure)) { smtp in
            do throws(SMTPError) {
                _ = try await Self.send(Self.message(), Self.server(smtp))
                Issue.record("sent despite \(failure.reply)")
            } catch {
                #expect(error.serverText == failure.reply.replacingOccurrences(of: "\r\n", with: "\n"))
                #expect(error.diagnosis.rule == rule, "\(error)")
                #expect(error.diagnosis.errorClass == errorClass)
            }
            let received = try smtp.messages()
            #expect(received.isEmpty)
        }
    }

    @Test("nothing listening: connection refused, temporary, in the system's words")
    func refused() async throws {
        let port = try DovecotServer.freePort()
        let server = SMTPSender.Server(host: "127.0.0.1", port: port, security: .none, username: "alice", credentials: .password("x"), policy: .testLoopback)
        do throws(SMTPError) {
            _ = try await Self.send(Self.message(), server)
            Issue.record("sent to a closed port")
        } catch {
            #expect(error.failure == .connection(ConnectionFailure(.refused, host: "127.0.0.1", port: port, detail: "Connection refused")))
            #expect(error.diagnosis.errorClass == .temporary)
        }
    }

    @Test("a server that offers no AUTH (plain, or after STARTTLS): stopped before MAIL FROM, a configuration error saying so; nothing sent", arguments: [
        SMTPServer.TLS.none, .starttls,
    ])
    func noAuthOffered(_ tls: SMTPServer.TLS) async throws {
        try await SMTPServer.withServer(options: .init(tls: tls, offersAuth: false)) { smtp in
            do throws(SMTPError) {
                _ = try await Self.send(Self.message(), Self.server(smtp, security: tls == .starttls ? .starttls : .none))
                Issue.record("sent through a server that checked no login")
            } catch {
                #expect(error.stop == .noAuthenticationOffered(host: "127.0.0.1", port: smtp.port), "\(error)")
                #expect(error.diagnosis.errorClass == .configuration)
                #expect(error.diagnosis.rule == "smtp.noAuthenticationOffered")
                #expect(error.diagnosis.hint.contains("offered no authentication; Mail Sync only sends through servers that check the sender's login"))
                #expect(error.serverText.contains("mailsync-test-smtp"))  // the EHLO reply, without AUTH
                #expect(!error.transcript.contains { $0.contains("AUTH") })
                #expect(!error.transcript.contains { $0.hasPrefix("250 2.1.0") })  // no reply to MAIL FROM: never sent
                if tls == .starttls { #expect(error.transcript.contains { $0.hasPrefix("220") && $0.contains("TLS") }) }
            }
            let received = try smtp.messages()
            #expect(received.isEmpty)
        }
    }

    @Test("a relay trusted to send without a login (requiresAuthentication false) is sent through; a server that offers AUTH is still logged in to")
    func relayWithoutAuth() async throws {
        try await SMTPServer.withServer(options: .init(offersAuth: false)) { smtp in
            var server = Self.server(smtp)
            server.requiresAuthentication = false
            _ = try await Self.send(Self.message(), server)
            let received = try smtp.messages()
            try #require(received.count == 1)
            #expect(received[0].login == nil)
        }
        try await SMTPServer.withServer { smtp in
            var server = Self.server(smtp)
            server.requiresAuthentication = false
            _ = try await Self.send(Self.message(), server)
            #expect(try smtp.messages().first?.login == "alice")
        }
    }

    @Test("a login name or password with a control character is refused before connecting", arguments: ["\r\n", "\u{0}", "\u{7f}"])
    func controlCharactersInLogin(_ control: String) async throws {
        try await TarpitServer.with { tarpit in
            for (field, username, password) in [("password", "alice", "s3cret\(control)RSET"), ("login name", "alice\(control)", "s3cret")] {
                let server = SMTPSender.Server(
                    host: "127.0.0.1", port: tarpit.port, security: .none, username: username, credentials: .password(password))
                do throws(SMTPError) {
                    _ = try await Self.send(Self.message(), server)
                    Issue.record("sent")
                } catch {
                    #expect(error.stop == .controlCharacters(field: field))
                    #expect(error.diagnosis.errorClass == .configuration)
                    #expect(!error.diagnosis.serverText.contains("s3cret"))
                }
            }
            #expect(tarpit.accepted == 0)
        }
    }

    @Test("sends share the pool's threads: 6 sends at once on a 2-thread pool all arrive, and the pool never holds more than 2 threads")
    func pool() async throws {
        try await SMTPServer.withServer { smtp in
            let workers = CurlWorkerPool(name: "test smtp", maxThreads: 2)
            defer { workers.shutdown() }
            let message = Self.message()
            let envelope = try SMTPEnvelope(from: message.from.address, recipients: message.recipients)
            let bytes = try message.build()
            let server = Self.server(smtp)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        _ = try await SMTPSender.send(bytes, envelope: envelope, server: server, timeout: .seconds(20), workers: workers)
                        #expect(workers.threadCount <= 2)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try smtp.messages().count == 6)
            #expect(workers.threadCount <= 2)
        }
    }

    @Test("envelope addresses that could inject SMTP commands are refused before any connection")
    func envelope() {
        #expect(throws: SMTPEnvelope.InvalidAddress.self) { try SMTPEnvelope(from: "a@b.example>\r\nRSET", recipients: ["c@d.example"]) }
        #expect(throws: SMTPEnvelope.InvalidAddress.self) { try SMTPEnvelope(from: "a@b.example", recipients: ["c@d.example\r\nDATA"]) }
        #expect(throws: SMTPEnvelope.InvalidAddress.self) { try SMTPEnvelope(from: "a@b.example", recipients: []) }
        #expect(throws: SMTPEnvelope.InvalidAddress.self) {
            try SMTPEnvelope(from: "a@b.example", recipients: (0...SMTPEnvelope.maxRecipients).map { "r\($0)@d.example" })
        }
        #expect((try? SMTPEnvelope(from: "a@b.example", recipients: ["c@d.example", "C@D.example"]))?.recipients == ["c@d.example"])
    }
}
