import Foundation
import Testing
import TestSupport

/// The Dovecot fixture the sync engine's tests stand on: a real IMAP server, seeded maildirs, and a
/// server that can vanish and come back.
@Suite("Dovecot fixture", .timeLimit(.minutes(5)))
struct DovecotFixtureTests {
    static let users = [(name: "alice", password: "s3cret"), (name: "bob", password: "hunter2")]
    /// 2024-01-02 03:04:05 UTC.
    static let seededDate = Date(timeIntervalSince1970: 1_704_164_645)

    static func message(_ subject: String, from: String = "lead@example.com") -> String {
        "From: \(from)\r\nTo: alice@example.com\r\nSubject: \(subject)\r\n"
            + "Date: Tue, 2 Jan 2024 03:04:05 +0000\r\nMessage-ID: <\(UUID().uuidString)@example.com>\r\n\r\nHello.\r\n"
    }

    @Test("seeded mail is served over IMAP: LOGIN, SELECT, UID FETCH, LOGOUT; the Sent folder is special-use")
    func session() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            try await dovecot.append(user: "alice", message: Self.message("first"), date: Self.seededDate)
            try await dovecot.append(user: "alice", message: Self.message("Grüße aus Köln – 日本"), date: Self.seededDate)
            try await dovecot.append(user: "alice", message: Self.message("third"), date: Self.seededDate, seen: true)
            try await dovecot.append(user: "alice", folder: "Sent", message: Self.message("sent one"))

            var imap = try await IMAPLines.connect(port: dovecot.port)
            #expect(try await imap.greeting().hasPrefix("* OK"))
            #expect(try await imap.command("a", "LOGIN alice s3cret").last?.hasPrefix("a OK") == true)
            let select = try await imap.command("b", "SELECT INBOX")
            #expect(select.contains("* 3 EXISTS"))
            #expect(select.last?.hasPrefix("b OK") == true)

            let fetch = try await imap.command("c", "UID FETCH 1:* (UID FLAGS INTERNALDATE ENVELOPE)")
            let items = fetch.filter { $0.hasPrefix("* ") && $0.contains(" FETCH (") }
            try #require(items.count == 3, "\(fetch)")
            #expect(items.enumerated().allSatisfy { $1.contains("UID \($0 + 1) ") })
            #expect(items.allSatisfy { $0.contains("INTERNALDATE \"02-Jan-2024 03:04:05 +0000\"") })
            #expect(items[0].contains("\"first\"") && items[2].contains("\"third\""))
            #expect(items[2].contains("\\Seen") && !items[0].contains("\\Seen"))
            // An 8-bit subject comes back as a literal carrying the raw UTF-8 bytes.
            let joined = fetch.joined(separator: "\r\n")
            #expect(joined.contains("Grüße aus Köln – 日本"))
            #expect(items[1].contains("{"))
            #expect(fetch.last?.hasPrefix("c OK") == true)

            let list = try await imap.command("d", "LIST \"\" *")
            #expect(list.contains { $0.contains("\\Sent") && $0.hasSuffix(" Sent") })
            #expect(try await imap.command("e", "STATUS Sent (MESSAGES)").contains("* STATUS Sent (MESSAGES 1)"))
            let logout = try await imap.command("f", "LOGOUT")
            #expect(logout.first == "* BYE Logging out")
            #expect(logout.last?.hasPrefix("f OK") == true)
            await imap.close()
        }
    }

    @Test("a wrong password gets Dovecot's tagged NO [AUTHENTICATIONFAILED], and quickly")
    func wrongPassword() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            var imap = try await IMAPLines.connect(port: dovecot.port)
            _ = try await imap.greeting()
            let started = ContinuousClock.now
            let reply = try await imap.command("a", "LOGIN alice wrong")
            #expect(reply.last == "a NO [AUTHENTICATIONFAILED] Authentication failed.")
            // Dovecot's own default delays a failure by 2 s; the fixture sets no delay.
            #expect(ContinuousClock.now - started < .milliseconds(1_800))
            // Another user's password does not open this account either.
            #expect(try await imap.command("b", "LOGIN bob s3cret").last?.contains("AUTHENTICATIONFAILED") == true)
            #expect(try await imap.command("c", "LOGIN bob hunter2").last?.hasPrefix("c OK") == true)
            await imap.close()
        }
    }

    @Test("kill() drops connections and refuses new ones; restart() serves the same data; stop() leaves nothing")
    func killRestartStop() async throws {
        let dovecot = try await DovecotServer.start(users: Self.users)
        try await dovecot.append(user: "alice", message: Self.message("survivor"))
        var imap = try await IMAPLines.connect(port: dovecot.port)
        _ = try await imap.greeting()
        #expect(try await imap.command("a", "LOGIN alice s3cret").last?.hasPrefix("a OK") == true)

        await dovecot.kill()
        #expect(await imap.connection.wait(timeout: .seconds(5)) { $0.isClosed })
        #expect(!DovecotServer.accepts(port: dovecot.port))
        await #expect(throws: (any Error).self) { _ = try await IMAPLines.connect(port: dovecot.port) }

        try await dovecot.restart()
        var again = try await IMAPLines.connect(port: dovecot.port)
        _ = try await again.greeting()
        #expect(try await again.command("a", "LOGIN alice s3cret").last?.hasPrefix("a OK") == true)
        #expect(try await again.command("b", "SELECT INBOX").contains("* 1 EXISTS"))
        await again.close()

        #expect(!(await Self.pgrep(dovecot.configPath)).isEmpty)
        await dovecot.stop()
        #expect((await Self.pgrep(dovecot.configPath)).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dovecot.directory))
        #expect(!DovecotServer.accepts(port: dovecot.port))
    }

    @Test("recreateFolder() empties the folder and changes its UIDVALIDITY")
    func recreateFolder() async throws {
        try await DovecotServer.withServer(users: Self.users) { dovecot in
            try await dovecot.append(user: "alice", message: Self.message("one"))
            try await dovecot.append(user: "alice", message: Self.message("two"))
            let before = try await Self.status(dovecot, folder: "INBOX")
            #expect(before.messages == 2)

            try await dovecot.recreateFolder(user: "alice", folder: "INBOX")
            try await dovecot.append(user: "alice", message: Self.message("new one"))
            let after = try await Self.status(dovecot, folder: "INBOX")
            #expect(after.messages == 1)
            #expect(after.uidValidity != before.uidValidity)
            #expect(after.uidNext == 2)
        }
    }

    @Test("with TLS required: STARTTLS is offered; implicit TLS serves a login with a verified certificate")
    func tlsRequired() async throws {
        try await DovecotServer.withServer(users: Self.users, options: .init(tls: .required)) { dovecot in
            let tlsPort = try #require(dovecot.tlsPort)
            let certificate = try #require(dovecot.certificatePath)

            var plain = try await IMAPLines.connect(port: dovecot.port)
            let greeting = try await plain.greeting()
            #expect(greeting.contains("STARTTLS"))
            // Dovecot treats a loopback client (its IP equals the server's) as secured: even with
            // ssl = required it neither advertises LOGINDISABLED nor refuses a plain LOGIN here.
            #expect(!greeting.contains("LOGINDISABLED"))
            #expect(try await plain.command("a", "LOGIN alice s3cret").last?.hasPrefix("a OK") == true)
            await plain.close()

            // openssl checks the chain against the fixture's certificate and the IP in its SAN.
            // On a thread of its own: reading the pipe to its end waits for openssl's exit.
            let transcript = try await OffPool.run { () throws -> String in
                let openssl = Process()
                openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
                openssl.arguments = [
                    "s_client", "-connect", "127.0.0.1:\(tlsPort)", "-CAfile", certificate,
                    "-verify_ip", "127.0.0.1", "-verify_return_error", "-quiet",
                ]
                let input = Pipe(), output = Pipe()
                openssl.standardInput = input
                openssl.standardOutput = output
                openssl.standardError = FileHandle.nullDevice
                try openssl.run()
                // s_client forwards stdin once the handshake is done; Dovecot reads the commands
                // after its greeting, so they can be written at once.
                input.fileHandleForWriting.write(Data("a LOGIN alice s3cret\r\nb LOGOUT\r\n".utf8))
                let transcript = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                openssl.waitUntilExit()
                return transcript
            }
            #expect(transcript.contains("a OK"), "\(transcript)")
            #expect(transcript.contains("b OK Logout completed"))
        }
    }

    // MARK: - Helpers

    static func status(_ dovecot: DovecotServer, folder: String) async throws -> (messages: Int, uidValidity: Int, uidNext: Int) {
        var imap = try await IMAPLines.connect(port: dovecot.port)
        _ = try await imap.greeting()
        _ = try await imap.command("a", "LOGIN alice s3cret")
        let lines = try await imap.command("b", "STATUS \(folder) (MESSAGES UIDVALIDITY UIDNEXT)")
        let line = try #require(lines.first { $0.hasPrefix("* STATUS") })
        func number(_ key: String) throws -> Int {
            let tail = try #require(line.range(of: key + " ")).upperBound
            return try #require(Int(line[tail...].prefix { $0.isNumber }))
        }
        _ = try await imap.command("c", "LOGOUT")
        await imap.close()
        return (try number("MESSAGES"), try number("UIDVALIDITY"), try number("UIDNEXT"))
    }

    static func pgrep(_ pattern: String) async -> String {
        let text = (try? await OffPool.output(of: "/usr/bin/pgrep", ["-f", pattern]).output) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Just enough IMAP over a raw socket: send a tagged command, collect lines up to its tagged reply.
struct IMAPLines {
    let connection: RawConnection
    private var consumed = 0

    static func connect(port: Int) async throws -> IMAPLines {
        IMAPLines(connection: try await RawConnection.connect(port: port))
    }

    private init(connection: RawConnection) { self.connection = connection }

    mutating func greeting() async throws -> String {
        try await lines { $0.contains { $0.hasPrefix("* ") } }.first ?? ""
    }

    /// The lines (literals included in their line's text) of the response to `tag text`.
    mutating func command(_ tag: String, _ text: String) async throws -> [String] {
        try await connection.send(Array("\(tag) \(text)\r\n".utf8))
        return try await lines { $0.contains { $0.hasPrefix(tag + " ") } }
    }

    private mutating func lines(until complete: ([String]) -> Bool) async throws -> [String] {
        var result: [String] = []
        var length = 0
        let start = consumed
        let ready = await connection.wait(timeout: .seconds(10)) { connection in
            let fresh = Array(connection.received.dropFirst(start))
            guard let end = Self.lastLineEnd(fresh) else { return false }
            result = String(decoding: fresh[..<end], as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            length = end
            return complete(result)
        }
        guard ready else {
            throw IMAPTimeout(received: String(decoding: connection.received.dropFirst(start), as: UTF8.self))
        }
        consumed += length
        return result
    }

    private static func lastLineEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 2 else { return nil }
        for index in stride(from: bytes.count - 2, through: 0, by: -1) where bytes[index] == 13 && bytes[index + 1] == 10 {
            return index + 2
        }
        return nil
    }

    func close() async { await connection.close() }
}

struct IMAPTimeout: Error, CustomStringConvertible {
    let received: String
    var description: String { "no complete IMAP response within 10 s; received: \(received)" }
}
