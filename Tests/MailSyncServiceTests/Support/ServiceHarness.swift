import Foundation
import Logging
import MailSyncClient
import MailSyncEngine
import MailSyncService
import MailSyncStorage
import TestSupport
@testable import MailSyncTenantData

/// A real Mail Sync server on a free loopback port with its own data directory, an operator key,
/// and helpers to make companies, users and keys through the generated client.
final class ServiceHarness: Sendable {
    let server: MailSyncServer
    let port: Int
    let dataDirectory: String
    let clock: ManualClock
    let operatorKey: String
    let operatorClient: MailSync.Client
    private let transports: [RoutingClientTransport]

    /// Starts a server. Stop it with `stop()`. `configure` changes the settings last (Smart Mail
    /// limits, relays).
    static func start(
        openTenantLimit: Int = 100, dataDirectory: String? = nil, logHandler: (any LogHandler)? = nil,
        sync: SyncSettings = ServiceHarness.syncSettings(), providers: [String: ProviderSettings]? = nil,
        outboundAllow: [String]? = ServiceHarness.loopbackAllowed,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        configure: (inout ServerSettings) -> Void = { _ in }
    ) async throws -> ServiceHarness {
        PoolStallWatchdog.ensureStarted()
        let dir = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-svc-\(UUID().uuidString)").path
        var settings = ServerSettings()
        settings.listen = "127.0.0.1:0"
        settings.dataDirectory = dir
        settings.openTenantLimit = openTenantLimit
        settings.providers = providers
        settings.outboundAllow = outboundAllow
        // Tests call as fast as they can; the per-key rate has tests of its own (QuotaTests).
        settings.keyRequestsPerSecond = 0
        configure(&settings)
        var logger = logHandler.map { handler in Logger(label: "test.mailsync", factory: { _ in handler }) } ?? Logger(label: "test.mailsync")
        logger.logLevel = logHandler == nil ? .warning : .trace
        let clock = ManualClock(Timestamp(secondsSinceEpoch: 1_790_000_000))  // 2026-09-21
        let server = try MailSyncServer(settings: settings, logger: logger, clock: clock, sync: sync, environment: environment)
        let address = try await server.start()
        let env = server.environment!
        let (_, secret) = try await env.control.write { db in
            try APIKeyStore.insert(db, companyID: nil, role: "operator", userID: "", label: "test operator", expiresAt: nil, now: clock.now())
        }
        let (client, transport) = MailSync.connect(host: "127.0.0.1", port: address.port!, apiKey: secret)
        return ServiceHarness(
            server: server, port: address.port!, dataDirectory: dir, clock: clock, operatorKey: secret,
            operatorClient: client, transports: [transport])
    }

    private init(server: MailSyncServer, port: Int, dataDirectory: String, clock: ManualClock, operatorKey: String,
                 operatorClient: MailSync.Client, transports: [RoutingClientTransport]) {
        self.server = server
        self.port = port
        self.dataDirectory = dataDirectory
        self.clock = clock
        self.operatorKey = operatorKey
        self.operatorClient = operatorClient
        self.transports = transports
    }

    /// A client sending `key` (nil: no credentials). Close the transport when done, or let `stop`
    /// leave it (connections close with the server).
    func client(key: String?) -> MailSync.Client {
        MailSync.connect(host: "127.0.0.1", port: port, apiKey: key).0
    }

    /// A key for an existing user of a company, made by the operator.
    func key(company: String, user: String) async throws -> String {
        var request = CreateApiKeyRequest()
        request.companyId = company
        request.userId = user
        request.label = "test"
        return try await operatorClient.createApiKey(request).secret
    }

    /// A company made through the API, with its first administrator and a key for them.
    struct Company: Sendable {
        let id: String
        let adminUserID: String
        let adminKey: String
        let admin: MailSync.Client
    }

    func makeCompany(name: String = "Acme", plan: Plan = .essential, domains: [String] = []) async throws -> Company {
        var request = CreateCompanyRequest()
        request.name = name
        request.plan = plan
        request.emailDomains = domains
        let adminID = "admin-\(UUID().uuidString.prefix(8).lowercased())"
        request.administrator.id = adminID
        request.administrator.name = "Admin of \(name)"
        request.administrator.email = "\(adminID)@admins.example"
        let company = try await operatorClient.createCompany(request)
        let key = try await key(company: company.id, user: adminID)
        return Company(id: company.id, adminUserID: adminID, adminKey: key, admin: client(key: key))
    }

    /// What the test servers need, as an operator would say it: Dovecot, aiosmtpd and the token
    /// endpoint listen on 127.0.0.1 (plain text to them is allowed by being named here).
    static let loopbackAllowed = ["127.0.0.1"]

    /// Sync settings for tests: no background loop (tests move the clock and call `runSyncs()`,
    /// so no mailbox is ever contacted unless a test asks), no jitter, short timeouts.
    static func syncSettings() -> SyncSettings {
        var sync = SyncSettings()
        sync.runsInBackground = false
        sync.jitter = 0
        sync.connectTimeout = .seconds(10)
        sync.commandTimeout = .seconds(20)
        return sync
    }

    /// Runs every mailbox due by the harness's clock and waits for those runs; returns how many ran.
    @discardableResult
    func runSyncs() async -> Int {
        await server.scheduler!.runDue()
    }

    /// Stops the server and, unless `keepData`, removes its data directory.
    func stop(keepData: Bool = false) async {
        for transport in transports { transport.close() }
        await server.shutdown()
        if !keepData { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }
}
