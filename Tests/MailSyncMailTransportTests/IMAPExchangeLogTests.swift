import Foundation
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import Testing
import TestSupport

/// The redacted exchange an error carries (``IMAPExchangeLog``), against a real Dovecot: what was
/// asked and answered before the failure, and none of the password, the message's headers or its
/// body.
@Suite("IMAP exchange log: redacted transcripts of failures", .timeLimit(.minutes(5)))
struct IMAPExchangeLogTests {
    static let password = "pw-Zq9-secret-7731"
    static let users = [(name: "alice", password: password)]

    /// Every way `secret` could show up in `lines`: as is, lower-cased, base64 (a SASL PLAIN
    /// blob holds it base64-encoded).
    static func expectAbsent(_ secret: String, in lines: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let text = lines.joined(separator: "\n")
        #expect(!text.contains(secret), "\(secret) in \(text)", sourceLocation: sourceLocation)
        #expect(!text.lowercased().contains(secret.lowercased()), sourceLocation: sourceLocation)
        let plain = Data("\0alice\0\(secret)".utf8).base64EncodedString()
        #expect(!text.contains(plain) && !text.contains(Data(secret.utf8).base64EncodedString().dropLast(2)), sourceLocation: sourceLocation)
    }

    @Test("a refused login: the login line stands for libcurl's exchange; Dovecot's NO is there; the password is not")
    func refusedLogin() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let wrong = "wrong-Pw-4471-zz"
            let error = await #expect(throws: IMAPConnectionError.self) {
                _ = try await IMAPConnection.connect(
                    host: "127.0.0.1", port: dovecot.port, security: .none, username: "alice", password: wrong,
                    timeout: .seconds(10), commandTimeout: .seconds(10), policy: .testLoopback)
            }
            let exchange = try #require(error).exchange
            #expect(exchange.first == IMAPExchangeLog.loginLine)
            #expect(exchange.contains { $0.hasPrefix("S: * OK") }, "the greeting: \(exchange)")
            #expect(exchange.contains { $0.contains("NO [AUTHENTICATIONFAILED]") }, "\(exchange)")
            Self.expectAbsent(wrong, in: exchange)
            Self.expectAbsent(Self.password, in: exchange)
        }
    }

    @Test("a NO after headers and a body were fetched: the commands and sizes are there; the subject, addresses and body are not")
    func failureAfterFetch() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let message = "From: Secret Sender <sender-Xq81@client.example>\r\nTo: alice@example.com\r\n"
                + "Subject: Subject-Kp27 confidential\r\nMessage-ID: <mid-Wn55@client.example>\r\n\r\nBody-Rt64 the merger terms\r\n"
            try await dovecot.append(user: "alice", message: Array(message.utf8))
            let imap = try await IMAPConnection.connect(
                host: "127.0.0.1", port: dovecot.port, security: .none, username: "alice", password: Self.password,
                timeout: .seconds(10), commandTimeout: .seconds(10), policy: .testLoopback)
            _ = try await imap.command("EXAMINE INBOX")
            let headers = try await imap.fetchHeaders(uids: [1])
            #expect(headers.count == 1)
            let bodies = try await imap.fetchBodies(announced: [1: headers[0].size])
            #expect(bodies[1].map { String(decoding: $0, as: UTF8.self).contains("Body-Rt64") } == true)
            let error = await #expect(throws: IMAPConnectionError.self) { _ = try await imap.command("EXAMINE \"No such folder\"") }
            await imap.close()
            let exchange = try #require(error).exchange
            #expect(exchange.contains { $0.hasPrefix("C: ") && $0.contains("EXAMINE INBOX") }, "\(exchange)")
            #expect(exchange.contains { $0.hasPrefix("C: ") && $0.contains("UID FETCH") }, "\(exchange)")
            #expect(exchange.contains { $0.contains("ENVELOPE (withheld)") }, "\(exchange)")
            #expect(exchange.contains { $0.contains("bytes withheld") }, "\(exchange)")
            #expect(exchange.last?.contains("NO") == true, "the failing command's completion last: \(exchange)")
            for secret in ["sender-Xq81", "Secret Sender", "Subject-Kp27", "mid-Wn55", "Body-Rt64", "merger", Self.password] {
                Self.expectAbsent(secret, in: exchange)
            }
            #expect(exchange.count <= IMAPExchangeLog.capacity)
            #expect(exchange.allSatisfy { $0.count <= IMAPExchangeLog.maxLineLength + 1 })
        }
    }

    @Test("the log keeps the last lines only, cut and without control characters")
    func bounded() {
        var log = IMAPExchangeLog()
        for index in 0..<100 { log.command("a\(index) NOOP") }
        #expect(log.lines.count == IMAPExchangeLog.capacity)
        #expect(log.lines.last == "C: a99 NOOP")
        log.command("a100 " + String(repeating: "x", count: 1000) + "\r\n\0")
        #expect(log.lines.last!.count == IMAPExchangeLog.maxLineLength + 1)
        log.response(.continuation("AGFsaWNlAHNlY3JldA=="))
        #expect(log.lines.last == "S: + (continuation withheld)")
        let login = IMAPExchangeLog(loginTranscript: ["* OK ready", "+ eyJzdGF0dXMiOiI0MDEifQ==", "A1 NO bad\r"])
        #expect(login.lines == [IMAPExchangeLog.loginLine, "S: * OK ready", "S: + (continuation withheld)", "S: A1 NO bad "])
    }
}
