import Foundation
import MailSyncErrors
import MailSyncIMAP
import MailSyncMailTransport
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// IMAPConnection against a real Dovecot on 127.0.0.1 (TestSupport/Dovecot.swift), one per test.
@Suite("IMAPConnection over libcurl")
struct IMAPConnectionTests {
    static let users = [(name: "alice", password: "s3cret")]

    static func message(_ subject: String, body: String) -> [UInt8] {
        Array(
            ("From: Lead <lead@example.com>\r\nTo: alice@example.com\r\nSubject: \(subject)\r\n"
                + "Date: Tue, 2 Jan 2024 03:04:05 +0000\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(body)").utf8)
    }

    static func connect(_ dovecot: DovecotServer, password: String = "s3cret") async throws -> IMAPConnection {
        try await IMAPConnection.connect(
            host: "127.0.0.1", port: dovecot.port, security: .none, username: "alice", password: password,
            timeout: .seconds(10), commandTimeout: .seconds(10), policy: .testLoopback)
    }

    @Test("login, SELECT gives EXISTS and UIDVALIDITY, UID FETCH brings 8-bit subjects and exact body bytes")
    func sessionWithLiterals() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let messages = [
                Self.message("first", body: "Hello.\r\n"),
                Self.message("Grüße aus Köln – 日本", body: "Bücher {3}\r\n) * 9 FETCH\r\nÜber 100 €\r\n"),
                Self.message("=?UTF-8?Q?caf=C3=A9?=", body: String(repeating: "line of text\r\n", count: 5000)),
            ]
            for message in messages { try await dovecot.append(user: "alice", message: message) }

            let imap = try await Self.connect(dovecot)
            #expect(imap.loginTranscript.first?.hasPrefix("* OK") == true)

            let select = try await imap.command("SELECT INBOX")
            #expect(select.contains(.untagged(.exists(3))))
            let uidValidity = select.compactMap { response -> UInt32? in
                if case .untagged(.status(let status)) = response, case .uidValidity(let value) = status.code { return value }
                return nil
            }
            #expect(uidValidity.count == 1 && uidValidity[0] > 0)
            guard case .tagged(_, let selectStatus) = select.last else { Issue.record("no tagged completion"); return }
            #expect(selectStatus.condition == .ok)

            let fetch = try await imap.command("UID FETCH 1:* (UID ENVELOPE BODY.PEEK[])")
            let items = fetch.compactMap { response -> [FetchAttribute]? in
                if case .untagged(.fetch(_, let attributes)) = response { return attributes }
                return nil
            }
            try #require(items.count == 3, "\(fetch)")
            for (index, attributes) in items.enumerated() {
                #expect(attributes.contains(.uid(UInt32(index + 1))))
                let body = attributes.compactMap { attribute -> [UInt8]? in
                    if case .bodySection("", _, let data) = attribute { return data }
                    return nil
                }
                #expect(body == [messages[index]], "message \(index + 1): body bytes differ")
                let subjects = attributes.compactMap { attribute -> String? in
                    if case .envelope(let envelope) = attribute { return envelope.subjectText }
                    return nil
                }
                #expect(subjects == [["first", "Grüße aus Köln – 日本", "café"][index]])
            }
            // The connection stays usable after literals.
            let noop = try await imap.command("NOOP")
            #expect(noop.count >= 1)
            await imap.close()
            await imap.close()  // idempotent
            await #expect(throws: IMAPConnectionError.self) { try await imap.command("NOOP") }
        }
    }

    @Test("a wrong password fails with Dovecot's tagged NO, classified authentication")
    func wrongPassword() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let error = await #expect(throws: IMAPConnectionError.self) { try await Self.connect(dovecot, password: "wrong") }
            guard let error else { return }
            #expect(error.serverText.contains("[AUTHENTICATIONFAILED] Authentication failed."), "\(error)")
            #expect(error.diagnosis.errorClass == .authentication)
            #expect(error.curlCode == 67)  // CURLE_LOGIN_DENIED
            guard case .imap(let response) = error.failure else { Issue.record("not an IMAP failure: \(error)"); return }
            #expect(response.status == .no && response.phase == .authenticate && response.tag != nil)
            #expect(!error.transcript.contains { $0.contains("wrong") }, "the password must not be logged")
        }
    }

    @Test("a tagged NO to a command throws with the server's text and the phase's class")
    func selectMissingFolder() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let imap = try await Self.connect(dovecot)
            let error = await #expect(throws: IMAPConnectionError.self) { try await imap.command("SELECT Nowhere") }
            #expect(error?.diagnosis.errorClass == .configuration, "\(String(describing: error))")
            #expect(error?.serverText.contains("Mailbox doesn't exist") == true, "\(String(describing: error))")
            // Still usable: a NO is not a broken connection.
            #expect(try await imap.command("SELECT INBOX").contains(.untagged(.exists(0))))
            await imap.close()
        }
    }

    @Test("connection refused: a connection failure classified temporary")
    func refused() async throws {
        // A bound socket that does not listen: connecting to its port is refused, and no one
        // else can take the port meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let port = try Self.bindLoopback(fd)
        let error = await #expect(throws: IMAPConnectionError.self) {
            try await IMAPConnection.connect(host: "127.0.0.1", port: port, security: .none, username: "a", password: "b", timeout: .seconds(5), policy: .testLoopback)
        }
        guard let error else { return }
        guard case .connection(let failure) = error.failure else { Issue.record("\(error)"); return }
        #expect(failure.kind == .refused, "\(error)")
        #expect(error.serverText == "Connection refused (127.0.0.1:\(port))")
        #expect(error.diagnosis.errorClass == .temporary)
        #expect(error.curlCode == 7)  // CURLE_COULDNT_CONNECT
    }

    @Test("a server that accepts but never greets: connect times out, classified temporary")
    func greetingTimeout() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let port = try Self.bindLoopback(fd)
        #expect(listen(fd, 4) == 0)
        let start = ContinuousClock.now
        let error = await #expect(throws: IMAPConnectionError.self) {
            try await IMAPConnection.connect(host: "127.0.0.1", port: port, security: .none, username: "a", password: "b", timeout: .milliseconds(800), policy: .testLoopback)
        }
        // Far below the two-minute command timeout, with room for a loaded machine (the suite
        // runs beside many Dovecot processes).
        #expect(ContinuousClock.now - start < .seconds(30))
        guard let error, case .connection(let failure) = error.failure else { Issue.record("\(String(describing: error))"); return }
        #expect(failure.kind == .timeout, "\(error)")
        #expect(error.diagnosis.errorClass == .temporary)
    }

    @Test("Dovecot killed mid-session: the next command fails promptly and the connection stays failed")
    func killedMidSession() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            try await dovecot.append(user: "alice", message: Self.message("one", body: "x\r\n"))
            let imap = try await Self.connect(dovecot)
            _ = try await imap.command("SELECT INBOX")
            await dovecot.kill()
            let start = ContinuousClock.now
            let error = await #expect(throws: IMAPConnectionError.self) { try await imap.command("UID FETCH 1:* (UID)", timeout: .seconds(5)) }
            #expect(ContinuousClock.now - start < .seconds(6))
            guard let error else { return }
            #expect(error.diagnosis.errorClass == .temporary, "\(error)")
            if case .connection(let failure) = error.failure { #expect(failure.kind == .resetMidSession) } else { Issue.record("\(error)") }
            // Later commands fail at once with the same error.
            let again = await #expect(throws: IMAPConnectionError.self) { try await imap.command("NOOP") }
            #expect(again?.serverText == error.serverText)
            await imap.close()
        }
    }

    @Test("a server that stops answering mid-session: the command times out instead of hanging")
    func silentServerTimesOut() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            let imap = try await Self.connect(dovecot)
            _ = try await imap.command("SELECT INBOX")
            // Freeze every Dovecot process (the connection stays open, nothing answers).
            let frozen = Self.processes(matching: dovecot.configPath)
            try #require(!frozen.isEmpty)
            for pid in frozen { kill(pid, SIGSTOP) }
            defer { for pid in frozen { kill(pid, SIGCONT) } }
            let start = ContinuousClock.now
            let error = await #expect(throws: IMAPConnectionError.self) { try await imap.command("NOOP", timeout: .seconds(1)) }
            #expect(ContinuousClock.now - start < .seconds(4))
            guard let error, case .connection(let failure) = error.failure else { Issue.record("\(String(describing: error))"); return }
            #expect(failure.kind == .timeout, "\(error)")
            #expect(error.diagnosis.errorClass == .temporary)
            await imap.close()  // no LOGOUT on a failed connection: returns at once
            #expect(ContinuousClock.now - start < .seconds(4))
        }
    }

    /// The Dovecot master started with `configPath` and every process below it, from /proc.
    static func processes(matching configPath: String) -> [pid_t] {
        var parents: [pid_t: pid_t] = [:]
        var roots: [pid_t] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry) else { continue }
            if let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, let parent = pid_t(fields[1]) { parents[pid] = parent }
            }
            if let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: cmdline, as: UTF8.self).contains(configPath)
            {
                roots.append(pid)
            }
        }
        var result = Set(roots)
        var grew = true
        while grew {
            grew = false
            for (pid, parent) in parents where result.contains(parent) && !result.contains(pid) {
                result.insert(pid)
                grew = true
            }
        }
        return Array(result)
    }

    @Test("TLS: implicit (imaps) and STARTTLS, trusting the test server's certificate")
    func tls() async throws {
        try await DovecotServer.withServer(users: Self.users, options: .init(tls: .required)) { dovecot in
            let tls = IMAPConnection.TLSOptions(caFile: dovecot.certificatePath)
            for (security, port) in [(IMAPConnection.Security.tls, dovecot.tlsPort!), (.starttls, dovecot.port)] {
                let imap = try await IMAPConnection.connect(
                    host: "127.0.0.1", port: port, security: security, username: "alice", password: "s3cret",
                    timeout: .seconds(10), tls: tls, policy: .testLoopback)
                #expect(try await imap.command("SELECT INBOX").contains(.untagged(.exists(0))))
                await imap.close()
            }
            // Without trusting the certificate: untrusted, not an authentication problem.
            let error = await #expect(throws: IMAPConnectionError.self) {
                try await IMAPConnection.connect(
                    host: "127.0.0.1", port: dovecot.tlsPort!, security: .tls, username: "alice", password: "s3cret",
                    timeout: .seconds(10), policy: .testLoopback)
            }
            guard let error, case .connection(let failure) = error.failure else { Issue.record("\(String(describing: error))"); return }
            #expect(failure.kind == .certificateUntrusted, "\(error)")
        }
    }

    @Test("a password or login name with CR LF, NUL or DEL never reaches the server: refused before connecting", arguments: ["\r\n", "\u{0}", "\u{7f}"])
    func controlCharactersInLogin(_ control: String) async throws {
        try await TarpitServer.with { tarpit in
            for (username, password) in [("alice", "s3cret\(control)a2 LOGOUT"), ("alice\(control)a2 LOGOUT", "s3cret")] {
                let error = await #expect(throws: IMAPConnectionError.self) {
                    try await IMAPConnection.connect(
                        host: "127.0.0.1", port: tarpit.port, security: .none, username: username, password: password,
                        timeout: .seconds(5))
                }
                #expect(error?.diagnosis.errorClass == .authentication)
                #expect(error?.serverText.contains("control character") == true)
                #expect(error?.serverText.contains("s3cret") == false)
            }
            #expect(tarpit.accepted == 0)
        }
    }

    static func bindLoopback(_ fd: Int32) throws -> Int {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
