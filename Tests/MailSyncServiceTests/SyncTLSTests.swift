import Foundation
import MailSyncClient
import MailSyncEngine
import MailSyncService
import Testing
import TestSupport

/// The sync engine over TLS, against a real Dovecot with a self-signed certificate: implicit TLS
/// (imaps) and STARTTLS sync a lead's mail when the server's `imapCAFile` names that certificate;
/// with the system's roots the certificate is refused before any password is sent; a STARTTLS
/// mailbox never falls back to plain text.
///
/// Dovecot counts loopback clients as secured and accepts a plain-text LOGIN without STARTTLS, so
/// "TLS was used" is read from its own log: a login over TLS is logged with `TLS`.
@Suite("Sync engine: IMAP over TLS (imaps, STARTTLS) and imapCAFile", .timeLimit(.minutes(3)))
struct SyncTLSTests {
    static let lead = (id: "lead-1", address: "jane@client.example")

    /// A company with the lead, and the administrator's mailbox on 127.0.0.1 with `security`.
    struct Fixture: CompanyQueries {
        let harness: ServiceHarness
        let company: ServiceHarness.Company
        let mailboxID: String

        func status() async throws -> MailboxStatusResponse {
            try await company.admin.getMailboxStatus(MailboxFixtures.get(mailboxID))
        }
    }

    /// The sync settings the server derives from a configuration whose `imapCAFile` is `caFile`
    /// (nil: not set, the system's roots), with the harness's test changes (no background loop,
    /// no jitter, short timeouts).
    static func syncSettings(imapCAFile caFile: String?) throws -> SyncSettings {
        var configuration = ServerSettings()
        configuration.imapCAFile = caFile
        var sync = try configuration.syncSettings()
        let test = ServiceHarness.syncSettings()
        sync.runsInBackground = test.runsInBackground
        sync.jitter = test.jitter
        sync.connectTimeout = test.connectTimeout
        sync.commandTimeout = test.commandTimeout
        return sync
    }

    /// Starts a server trusting `caFile` for IMAP, makes the company and connects the mailbox
    /// (`alice` on 127.0.0.1:`port` with `security`); runs `body`, then stops the server.
    static func with(
        caFile: String?, port: Int, security: ConnectionSecurity, _ body: (Fixture) async throws -> Void
    ) async throws {
        let harness = try await ServiceHarness.start(sync: try syncSettings(imapCAFile: caFile))
        do {
            let company = try await harness.makeCompany(domains: ["acme.example"])
            try await SyncFixture.upsertLeads(company, [lead])
            var request = SyncFixture.connectRequest(email: SyncFixture.owner, username: "alice", port: port, secret: SyncFixture.password)
            request.imap = MailboxFixtures.endpoint("127.0.0.1", UInt32(port), security)
            let mailbox = try await company.admin.createMailboxConnection(request)
            // What the mailbox says is what the engine will use.
            let stored = try await company.admin.getMailboxStatus(MailboxFixtures.get(mailbox.id)).mailbox.imap
            #expect(stored.security == security && stored.port == UInt32(port), "\(stored)")
            try await body(Fixture(harness: harness, company: company, mailboxID: mailbox.id))
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    /// A mail from the lead to alice, received yesterday by the harness's clock.
    static func deliver(_ dovecot: DovecotServer, subject: String) async throws {
        let yesterday = Date(timeIntervalSince1970: 1_790_000_000 - 86_400)  // ServiceHarness's clock starts at 1_790_000_000
        _ = try await dovecot.append(
            user: "alice",
            message: "From: \(lead.address)\r\nTo: \(SyncFixture.owner)\r\nSubject: \(subject)\r\nMessage-ID: <\(UUID().uuidString)@client.example>\r\n\r\nHi\r\n",
            date: yesterday)
    }

    /// Dovecot's log lines of successful logins (`imap-login: Info: Login: user=<alice>, …`).
    static func logins(_ dovecot: DovecotServer) -> [Substring] {
        dovecot.log().split(separator: "\n").filter { $0.contains("imap-login:") && $0.contains("Login: user=<alice>") }
    }

    /// The security setting and the Dovecot port it goes with.
    enum Mode: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case implicitTLS = "SSL/TLS on the imaps port"
        case starttls = "STARTTLS on the imap port"

        var security: ConnectionSecurity { self == .implicitTLS ? .tls : .starttls }
        func port(_ dovecot: DovecotServer) -> Int { self == .implicitTLS ? dovecot.tlsPort! : dovecot.port }
        var testDescription: String { rawValue }
    }

    @Test("imapCAFile names Dovecot's certificate: the mailbox syncs the lead's mail, and Dovecot saw the login over TLS", arguments: Mode.allCases)
    func trusted(_ mode: Mode) async throws {
        try await DovecotServer.withServer(users: [(name: "alice", password: SyncFixture.password)], options: .init(tls: .required)) { dovecot in
            let certificate = try #require(dovecot.certificatePath)
            try await Self.deliver(dovecot, subject: "Over TLS")
            try await Self.with(caFile: certificate, port: mode.port(dovecot), security: mode.security) { fixture in
                #expect(await fixture.harness.runSyncs() == 1)
                let status = try await fixture.status()
                #expect(status.mailbox.status == .enabled, "\(String(describing: status.lastError))")
                #expect(try await fixture.timeline(Self.lead.id).map(\.subject) == ["Over TLS"])
                let logins = Self.logins(dovecot)
                #expect(logins.count == 1, "\(dovecot.log())")
                #expect(logins.allSatisfy { $0.contains(", TLS,") }, "the login went without TLS: \(logins)")
            }
        }
    }

    @Test("no imapCAFile (the system's roots): a certificate error with a hint in the status and error log, nothing recorded, no password sent", arguments: Mode.allCases)
    func untrusted(_ mode: Mode) async throws {
        try await DovecotServer.withServer(users: [(name: "alice", password: SyncFixture.password)], options: .init(tls: .required)) { dovecot in
            try await Self.deliver(dovecot, subject: "Never recorded")
            let port = mode.port(dovecot)
            try await Self.with(caFile: nil, port: port, security: mode.security) { fixture in
                #expect(await fixture.harness.runSyncs() == 1)
                let status = try await fixture.status()
                #expect(status.mailbox.status == .error)
                let error = try #require(status.lastError)
                #expect(error.errorClass == .configuration)
                #expect(error.serverText.contains("127.0.0.1:\(port)"), "\(error.serverText)")
                #expect(error.serverText.lowercased().contains("certificate"), "\(error.serverText)")
                #expect(error.fixHint.contains("certificate is not trusted"), "\(error.fixHint)")
                #expect(error.fixHint.contains("will not send your password"), "\(error.fixHint)")
                let log = try await fixture.errorLog()
                #expect(log.map(\.serverText) == [error.serverText])
                #expect(log.first?.fixHint == error.fixHint)

                #expect(try await fixture.timeline(Self.lead.id).isEmpty)
                #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 0)
                #expect(try await fixture.count("SELECT count(*) FROM timeline_entries") == 0)
                // The password never reached Dovecot: no login, and no failed one.
                #expect(Self.logins(dovecot).isEmpty, "\(dovecot.log())")
                #expect(!dovecot.log().contains("auth failed"), "\(dovecot.log())")
            }
        }
    }

    @Test("STARTTLS asked of a server that offers none: a configuration error saying so, never a plain-text login, nothing recorded")
    func starttlsNotOffered() async throws {
        // ssl = no: Dovecot advertises no STARTTLS and would take a plain-text LOGIN.
        try await DovecotServer.withServer(users: [(name: "alice", password: SyncFixture.password)]) { dovecot in
            try await Self.deliver(dovecot, subject: "Never recorded")
            try await Self.with(caFile: nil, port: dovecot.port, security: .starttls) { fixture in
                #expect(await fixture.harness.runSyncs() == 1)
                #expect(Self.logins(dovecot).isEmpty, "logged in without TLS: \(dovecot.log())")
                let status = try await fixture.status()
                #expect(status.mailbox.status == .error)
                let error = try #require(status.lastError)
                #expect(error.serverText.contains("STARTTLS"), "\(error.serverText)")
                #expect(error.serverText.contains("127.0.0.1:\(dovecot.port)"), "\(error.serverText)")
                #expect(error.errorClass == .configuration, "\(error.errorClass): \(error.fixHint)")
                #expect(error.fixHint.contains("STARTTLS") && error.fixHint.contains("SSL/TLS"), "\(error.fixHint)")

                #expect(try await fixture.timeline(Self.lead.id).isEmpty)
                #expect(try await fixture.count("SELECT count(*) FROM mailbox_messages") == 0)
                #expect(!dovecot.log().contains("auth failed"), "\(dovecot.log())")
            }
        }
    }
}

extension SyncTLSTests {
    /// Runs `mailsync serve --config` with `settings` as the JSON file and waits up to `limit` for
    /// it to exit: its exit status (nil if it was still running: then it is killed) and stderr.
    static func serve(settings: [String: String], limit: Duration = .seconds(30)) async throws -> (status: Int32?, errors: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-cafile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var config = settings
        config["listen"] = "127.0.0.1:0"
        config["dataDirectory"] = directory + "/data"
        let configPath = directory + "/config.json"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        let errorsPath = directory + "/stderr"
        FileManager.default.createFile(atPath: errorsPath, contents: nil)
        let process = Process()
        process.executableURL = CommandRunner.binary
        process.arguments = ["serve", "--config", configPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + limit
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        var status: Int32?
        if process.isRunning {
            process.terminate()
            await OffPool.waitForExit(process, timeout: .seconds(10))
        } else {
            status = process.terminationStatus
        }
        return (status, (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? "")
    }

    /// A file that is not a PEM bundle would otherwise fail every TLS mailbox (or token request)
    /// at the connection, shown to tenants as "the connection was cut" with curl's words and this
    /// file's path.
    @Test("mailsync serve refuses an imapCAFile or oauthCAFile that cannot be read or holds no PEM certificate: exit 2, naming the setting and the file",
          arguments: ["imapCAFile", "oauthCAFile"], ["missing", "not PEM", "empty"])
    func unusableCAFile(_ setting: String, _ kind: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-ca-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/bundle.pem"
        switch kind {
        case "not PEM": try Data("hello, not a certificate\n".utf8).write(to: URL(fileURLWithPath: file))
        case "empty": try Data().write(to: URL(fileURLWithPath: file))
        default: break
        }
        let (status, errors) = try await Self.serve(settings: [setting: file])
        #expect(status == 2, "\(errors)")
        #expect(errors.contains("\(setting) \(file)"), "\(errors)")
        #expect(errors.contains("PEM"), "\(errors)")
    }
}
