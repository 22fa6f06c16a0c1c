import Foundation
import Logging
import MailSyncClient
import MailSyncEngine
import MailSyncSecurity
import MailSyncService
import MailSyncStorage
import MailSyncTenantData
import MailSyncTransport

/// A Mail Sync server in this process, as the service tests start it: a fresh data directory, a
/// free loopback port, a `ManualClock`, the production sync settings except the background loop
/// (the benchmark calls `runDue()` itself), and an operator key.
final class OurServer: @unchecked Sendable {
    let server: MailSyncServer
    let scheduler: SyncScheduler
    let clock: ManualClock
    let port: Int
    let dataDirectory: String
    let operatorClient: MailSync.Client
    private var transports: [RoutingClientTransport]

    /// `sync` replaces the production settings (the background loop stays off); `dataDirectory`
    /// reuses one (a restart); `clockStart` is the clock's first reading (seconds since 1970).
    /// `shipTo` turns `remoteBackup` on, to that directory (1 s rounds, a throwaway backup key).
    static func start(
        sync custom: SyncSettings? = nil, dataDirectory: String? = nil, clockStart: Double = Corpus.start, shipTo: String? = nil
    ) async throws -> OurServer {
        let dir = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-sync-bench-\(UUID().uuidString)").path
        var settings = ServerSettings()
        settings.listen = "127.0.0.1:0"
        settings.dataDirectory = dir
        settings.outboundAllow = ["127.0.0.1"]  // the benchmark's Dovecot, as an operator would allow it
        var environment = ProcessInfo.processInfo.environment
        if let shipTo {
            var remote = RemoteBackupSettings()
            remote.directory = shipTo
            remote.shipIntervalSeconds = 1
            settings.remoteBackup = remote
            environment[BackupKey.environmentVariable] = BackupKey.generate().base64
        }
        var logger = Logger(label: "bench.mailsync")
        logger.logLevel = .warning
        var sync = custom ?? SyncSettings()
        sync.runsInBackground = false
        let clock = ManualClock(Timestamp(secondsSinceEpoch: clockStart))
        let server = try MailSyncServer(settings: settings, logger: logger, clock: clock, sync: sync, environment: environment)
        let address = try await server.start()
        guard let env = server.environment, let scheduler = server.scheduler, let port = address.port else {
            await server.shutdown()
            throw BenchmarkFailure("the server did not start")
        }
        let (_, secret) = try await env.control.write { db in
            try APIKeyStore.insert(db, companyID: nil, role: "operator", userID: "", label: "benchmark operator", expiresAt: nil, now: clock.now())
        }
        let (client, transport) = MailSync.connect(host: "127.0.0.1", port: port, apiKey: secret)
        return OurServer(server: server, scheduler: scheduler, clock: clock, port: port, dataDirectory: dir,
                         operatorClient: client, transport: transport)
    }

    private init(server: MailSyncServer, scheduler: SyncScheduler, clock: ManualClock, port: Int, dataDirectory: String,
                 operatorClient: MailSync.Client, transport: RoutingClientTransport) {
        self.server = server
        self.scheduler = scheduler
        self.clock = clock
        self.port = port
        self.dataDirectory = dataDirectory
        self.operatorClient = operatorClient
        self.transports = [transport]
    }

    /// A company (plan Essential by default: 10 mailboxes; Ultimate: 250) with its administrator,
    /// and a client holding the administrator's key.
    func makeCompany(name: String, domain: String, plan: MailSync.Plan = .essential) async throws -> MailSync.Client {
        var request = MailSync.CreateCompanyRequest()
        request.name = name
        request.plan = plan
        request.emailDomains = [domain]
        let adminID = "admin-\(UUID().uuidString.prefix(8).lowercased())"
        request.administrator.id = adminID
        request.administrator.name = "Admin of \(name)"
        request.administrator.email = "\(adminID)@\(domain)"
        let company = try await operatorClient.createCompany(request)
        var key = MailSync.CreateApiKeyRequest()
        key.companyId = company.id
        key.userId = adminID
        key.label = "benchmark"
        let secret = try await operatorClient.createApiKey(key).secret
        let (client, transport) = MailSync.connect(host: "127.0.0.1", port: port, apiKey: secret)
        transports.append(transport)
        return client
    }

    /// Creates a salesperson.
    func makeUser(_ admin: MailSync.Client, id: String, email: String) async throws {
        var request = MailSync.CreateUserRequest()
        request.id = id
        request.name = "User \(id)"
        request.email = email
        request.role = .salesperson
        _ = try await admin.createUser(request)
    }

    func upsertLeads(_ admin: MailSync.Client, _ addresses: [String], prefix: String = "lead") async throws {
        let response = try await admin.upsertLeads { writer in
            for (index, address) in addresses.enumerated() {
                var lead = MailSync.Lead()
                lead.id = "\(prefix)-\(index)"
                lead.name = "Lead \(index)"
                lead.emailAddresses = [address]
                try await writer.write(lead)
            }
        }
        guard response.rejections.isEmpty else { throw BenchmarkFailure("leads rejected: \(response.rejections)") }
    }

    /// Connects a password mailbox on the benchmark's Dovecot (plain IMAP on 127.0.0.1, CUSTOM_IMAP).
    @discardableResult
    func connectMailbox(_ admin: MailSync.Client, userID: String = "", email: String, login: String, password: String, imapPort: Int) async throws -> String {
        var endpoint = MailSync.ServerEndpoint()
        endpoint.host = "127.0.0.1"
        endpoint.port = UInt32(imapPort)
        endpoint.security = MailSync.ConnectionSecurity.none
        var request = MailSync.CreateMailboxConnectionRequest()
        request.userId = userID
        request.emailAddress = email
        request.username = login
        request.provider = .customImap
        request.imap = endpoint
        request.secret = password
        let mailbox = try await admin.createMailboxConnection(request)
        guard mailbox.status == .enabled else { throw BenchmarkFailure("mailbox \(email) is \(mailbox.status), not ENABLED") }
        return mailbox.id
    }

    /// The mailbox's error log, for a failure message.
    func errors(_ admin: MailSync.Client, mailboxID: String) async -> String {
        var request = MailSync.ListErrorLogRequest()
        request.mailboxId = mailboxID
        guard let entries = try? await admin.listErrorLog(request).entries else { return "(no error log)" }
        return entries.map { "  error log: \($0.errorClass): \($0.serverText)" }.joined(separator: "\n")
    }

    /// `runDue()` timed with the wall clock; returns how many mailboxes ran and the time.
    func timedRunDue() async -> (ran: Int, elapsed: Duration) {
        let started = ContinuousClock.now
        let ran = await scheduler.runDue()
        return (ran, ContinuousClock.now - started)
    }

    func stop(keepData: Bool = false) async {
        for transport in transports { transport.close() }
        await server.shutdown()
        if !keepData { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }
}
