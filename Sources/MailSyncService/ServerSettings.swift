import Foundation
public import MailSyncMailTransport
public import MailSyncTransport
import MailSyncWire
import NIOCore
import MailSyncEngine

/// Everything `mailsync serve` can be told, from a JSON config file and then flags (flags win).
///
/// Every field is optional in the file; absent fields keep the defaults below. Example:
/// ```json
/// { "listen": "0.0.0.0:7420", "dataDirectory": "/var/lib/mailsync", "maxConnections": 2000,
///   "maxConcurrentCallsPerConnection": 100, "maxMessageBytes": 4194304,
///   "idleTimeoutSeconds": 300, "shutdownGraceSeconds": 30,
///   "tlsCertificateFile": "/etc/mailsync/cert.pem", "tlsPrivateKeyFile": "/etc/mailsync/key.pem" }
/// ```
public struct ServerSettings: Codable, Sendable, Equatable {
    /// host:port to listen on. Default `127.0.0.1:7420`.
    public var listen: String?
    /// Where tenant databases and keys live. Default `./data`.
    public var dataDirectory: String?
    public var maxConnections: Int?
    public var maxConcurrentCallsPerConnection: Int?
    public var maxMessageBytes: Int?
    public var maxMetadataBytes: Int?
    public var maxFrameBytes: Int?
    public var idleTimeoutSeconds: Double?
    public var handshakeTimeoutSeconds: Double?
    public var keepaliveIntervalSeconds: Double?
    public var shutdownGraceSeconds: Double?
    /// Compress responses at least this large; absent: never.
    public var compressionThresholdBytes: Int?
    /// PEM files; both or neither. With them the server speaks TLS only (TLS 1.2 at least, AEAD
    /// suites only).
    public var tlsCertificateFile: String?
    public var tlsPrivateKeyFile: String?
    /// Listen without TLS on an address other than loopback. Default false: API keys and mailbox
    /// passwords would cross the network in clear, so such a `listen` without TLS files is
    /// refused at start (a TLS-terminating proxy in front is the case for this switch).
    public var allowPlaintextListen: Bool?
    /// trace, debug, info (default), notice, warning, error, critical.
    public var logLevel: String?
    /// Continuous backups off the machine (``RemoteBackupSettings``): an S3-compatible bucket or
    /// a directory, sealed with the backup key. Absent: only local backups.
    public var remoteBackup: RemoteBackupSettings?
    /// Run as one node of a fleet coordinated by etcd (``ClusterSettings``). Absent: a single node.
    public var cluster: ClusterSettings?
    /// Company databases kept open while idle (least recently used are closed). Default 100.
    public var openTenantLimit: Int?
    /// Mailboxes synced at once. Default 8.
    public var maxConcurrentSyncs: Int?
    /// Mailboxes of one company synced at once. Default half of `maxConcurrentSyncs` (at least 1).
    public var maxConcurrentSyncsPerCompany: Int?
    /// Wall-clock budget of one mailbox's sync run, in seconds. Default 600.
    public var syncRunBudgetSeconds: Double?
    /// How long one IMAP command may take in all, in seconds, however slowly the server answers.
    /// Default 120.
    public var imapCommandTimeoutSeconds: Double?
    /// How many days back a new mailbox's first sync reaches. Default 30.
    public var syncBackfillDays: Int?
    /// Messages per header batch; each batch commits with its folder cursor. Default 500.
    public var syncBatchSize: Int?
    /// Retro-match: new lead addresses per `UID SEARCH`. Default 20 (1...100).
    public var retroMatchAddressesPerSearch: Int?
    /// Retro-match: searches per mailbox run, over INBOX and Sent. Default 40; 0 turns retro-match
    /// off (0...10000).
    public var retroMatchSearchesPerRun: Int?
    /// A PEM bundle trusted for IMAP TLS instead of the system's (private mail servers). Checked
    /// at start: a file that cannot be read or holds no PEM certificate is refused.
    public var imapCAFile: String?
    /// host:port of the HTTP endpoint for `GET /metrics` (Prometheus), `/healthz` and `/readyz`,
    /// e.g. `127.0.0.1:9464`. Absent: no endpoint (metrics are still kept in memory).
    public var metricsListen: String?
    /// Provider presets' overrides and the server's OAuth clients, by provider name
    /// (`GMAIL`, `MICROSOFT_365`, …); see `ProviderSettings`. Client secrets are never logged.
    public var providers: [String: ProviderSettings]?
    /// The redirect URIs `StartOAuthConnection` accepts (as registered with the providers);
    /// absent or empty: any https:// URL (http:// only on loopback).
    public var oauthRedirectURIs: [String]?
    /// A PEM bundle trusted for OAuth token endpoints instead of the system's. Checked at start
    /// like `imapCAFile`.
    public var oauthCAFile: String?
    /// Destinations the server may reach on a tenant's behalf besides public addresses: networks
    /// (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`) and host:port pairs (`exchange.corp:993`,
    /// `[::1]:1143`). Default none: loopback, private, link-local, CGNAT, unique-local, multicast
    /// and unspecified addresses are refused for IMAP, SMTP and OAuth endpoints alike, judged on
    /// the address connected to (after DNS). See `OutboundPolicy`.
    public var outboundAllow: [String]?
    /// Only the mail ports (25, 143, 465, 587, 993) outside the host:port pairs of
    /// `outboundAllow`. Default false.
    public var outboundMailPortsOnly: Bool?
    /// Mail server connections without TLS (security NONE) to any destination. Default false:
    /// plain text only to destinations `outboundAllow` names.
    public var allowPlaintextMail: Bool?
    /// Calls a second one tenant API key may make, sustained. Default 200; 0 turns the limit off.
    public var keyRequestsPerSecond: Double?
    /// Calls one tenant API key may make in a burst. Default 400.
    public var keyRequestBurst: Int?
    /// Largest company database, in MiB. Default 10240 (10 GiB).
    public var tenantDatabaseMaxMB: Int?
    /// Largest company database per plan (`TRIAL`, `ESSENTIAL`, …, `CRM_FREE`), in MiB; plans not
    /// named take `tenantDatabaseMaxMB`. Default: `TRIAL` and `CRM_FREE` 1024.
    public var planDatabaseMaxMB: [String: Int]?
    /// Most leads one company may have. Default 200,000.
    public var maxLeadsPerCompany: Int?
    /// Most lead addresses one company may have. Default 1,000,000.
    public var maxLeadAddressesPerCompany: Int?
    /// Plans no new company may be created on (`["CRM_PRO", …]`; `[]` opens every plan).
    /// Default: MARKETING_AUTOMATION, CRM_ULTIMATE, CRM_PRO (CRM Free is open).
    public var plansClosedToNewCompanies: [String]?
    /// Smart Mail sends in progress on the whole server: the number of send threads. Default 16,
    /// 1...1024. See ``smartMailSettings()``.
    public var smartMailWorkers: Int?
    /// Smart Mail sends in progress for one company. Default 8, 1...1024 (above
    /// `smartMailWorkers` it acts as `smartMailWorkers`).
    public var smartMailPerCompany: Int?
    /// Smart Mail sends in progress for one user. Default 2, 1...1024.
    public var smartMailPerUser: Int?
    /// How long a Smart Mail over one of those limits waits for a slot before it is refused with
    /// `resource exhausted` ("retry in N s"). Default 5 s, 0...60 (0: refused at once).
    public var smartMailQueueWaitSeconds: Double?
    /// SMTP servers, as `host:port` exactly as mailboxes name them, that Smart Mail may send
    /// through without logging in (an internal relay that checks senders some other way). Every
    /// other server must offer `AUTH` and accept the mailbox's login, or the send is refused.
    /// Default: none.
    public var smtpRelaysWithoutAuth: [String]?
    /// Most bytes one IMAP body fetch may ask for: a batch's bodies are fetched in groups whose
    /// announced sizes (plus 10% + 64 KiB each) add up to at most this, and the server's reply is
    /// held to them. Default 32 MiB (33554432); 1 MiB to 1 GiB.
    public var syncBodyBytesPerFetch: Int?
    /// Watch INBOXes with IMAP IDLE where the server offers it, so new mail is synced within
    /// seconds instead of at the next poll (polling continues as well). Default false.
    public var imapIdle: Bool?
    /// IDLE connections held by the whole server. Default 500, 0...100000 (0: none).
    public var maxIdleConnections: Int?
    /// IDLE connections held for one company's mailboxes. Default 50, 0...100000.
    public var maxIdleConnectionsPerCompany: Int?
    /// IDLE connections held to one IMAP server (host). Default 100, 0...100000.
    public var maxIdleConnectionsPerServer: Int?

    public init() {}

    /// Reads a config file.
    ///
    /// - Throws: `SettingsError` naming the file and what is wrong with it.
    public static func load(from path: String) throws -> ServerSettings {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SettingsError("cannot read the config file \(path): \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(ServerSettings.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw SettingsError("the config file \(path) is not valid JSON: \(context.debugDescription)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw SettingsError("the config file \(path) has a wrong value for '\(key)': \(context.debugDescription)")
        } catch {
            throw SettingsError("the config file \(path) could not be read: \(error)")
        }
    }

    /// Fields set in `other` replace this one's.
    public func overridden(by other: ServerSettings) -> ServerSettings {
        var result = self
        result.listen = other.listen ?? listen
        result.dataDirectory = other.dataDirectory ?? dataDirectory
        result.maxConnections = other.maxConnections ?? maxConnections
        result.maxConcurrentCallsPerConnection = other.maxConcurrentCallsPerConnection ?? maxConcurrentCallsPerConnection
        result.maxMessageBytes = other.maxMessageBytes ?? maxMessageBytes
        result.maxMetadataBytes = other.maxMetadataBytes ?? maxMetadataBytes
        result.maxFrameBytes = other.maxFrameBytes ?? maxFrameBytes
        result.idleTimeoutSeconds = other.idleTimeoutSeconds ?? idleTimeoutSeconds
        result.handshakeTimeoutSeconds = other.handshakeTimeoutSeconds ?? handshakeTimeoutSeconds
        result.keepaliveIntervalSeconds = other.keepaliveIntervalSeconds ?? keepaliveIntervalSeconds
        result.shutdownGraceSeconds = other.shutdownGraceSeconds ?? shutdownGraceSeconds
        result.compressionThresholdBytes = other.compressionThresholdBytes ?? compressionThresholdBytes
        result.tlsCertificateFile = other.tlsCertificateFile ?? tlsCertificateFile
        result.tlsPrivateKeyFile = other.tlsPrivateKeyFile ?? tlsPrivateKeyFile
        result.allowPlaintextListen = other.allowPlaintextListen ?? allowPlaintextListen
        result.logLevel = other.logLevel ?? logLevel
        result.remoteBackup = other.remoteBackup ?? remoteBackup
        if let flags = other.cluster {
            var merged = cluster ?? ClusterSettings()
            merged.etcd = flags.etcd ?? merged.etcd
            merged.node = flags.node ?? merged.node
            merged.advertise = flags.advertise ?? merged.advertise
            merged.prefix = flags.prefix ?? merged.prefix
            merged.leaseSeconds = flags.leaseSeconds ?? merged.leaseSeconds
            merged.fenceMarginSeconds = flags.fenceMarginSeconds ?? merged.fenceMarginSeconds
            merged.placeNewCompanies = flags.placeNewCompanies ?? merged.placeNewCompanies
            result.cluster = merged
        }
        result.openTenantLimit = other.openTenantLimit ?? openTenantLimit
        result.maxConcurrentSyncs = other.maxConcurrentSyncs ?? maxConcurrentSyncs
        result.maxConcurrentSyncsPerCompany = other.maxConcurrentSyncsPerCompany ?? maxConcurrentSyncsPerCompany
        result.syncRunBudgetSeconds = other.syncRunBudgetSeconds ?? syncRunBudgetSeconds
        result.imapCommandTimeoutSeconds = other.imapCommandTimeoutSeconds ?? imapCommandTimeoutSeconds
        result.syncBackfillDays = other.syncBackfillDays ?? syncBackfillDays
        result.syncBatchSize = other.syncBatchSize ?? syncBatchSize
        result.retroMatchAddressesPerSearch = other.retroMatchAddressesPerSearch ?? retroMatchAddressesPerSearch
        result.retroMatchSearchesPerRun = other.retroMatchSearchesPerRun ?? retroMatchSearchesPerRun
        result.imapCAFile = other.imapCAFile ?? imapCAFile
        result.metricsListen = other.metricsListen ?? metricsListen
        result.providers = other.providers ?? providers
        result.oauthRedirectURIs = other.oauthRedirectURIs ?? oauthRedirectURIs
        result.oauthCAFile = other.oauthCAFile ?? oauthCAFile
        result.outboundAllow = other.outboundAllow ?? outboundAllow
        result.outboundMailPortsOnly = other.outboundMailPortsOnly ?? outboundMailPortsOnly
        result.allowPlaintextMail = other.allowPlaintextMail ?? allowPlaintextMail
        result.keyRequestsPerSecond = other.keyRequestsPerSecond ?? keyRequestsPerSecond
        result.keyRequestBurst = other.keyRequestBurst ?? keyRequestBurst
        result.tenantDatabaseMaxMB = other.tenantDatabaseMaxMB ?? tenantDatabaseMaxMB
        result.planDatabaseMaxMB = other.planDatabaseMaxMB ?? planDatabaseMaxMB
        result.maxLeadsPerCompany = other.maxLeadsPerCompany ?? maxLeadsPerCompany
        result.maxLeadAddressesPerCompany = other.maxLeadAddressesPerCompany ?? maxLeadAddressesPerCompany
        result.plansClosedToNewCompanies = other.plansClosedToNewCompanies ?? plansClosedToNewCompanies
        result.smartMailWorkers = other.smartMailWorkers ?? smartMailWorkers
        result.smartMailPerCompany = other.smartMailPerCompany ?? smartMailPerCompany
        result.smartMailPerUser = other.smartMailPerUser ?? smartMailPerUser
        result.smartMailQueueWaitSeconds = other.smartMailQueueWaitSeconds ?? smartMailQueueWaitSeconds
        result.smtpRelaysWithoutAuth = other.smtpRelaysWithoutAuth ?? smtpRelaysWithoutAuth
        result.syncBodyBytesPerFetch = other.syncBodyBytesPerFetch ?? syncBodyBytesPerFetch
        result.imapIdle = other.imapIdle ?? imapIdle
        result.maxIdleConnections = other.maxIdleConnections ?? maxIdleConnections
        result.maxIdleConnectionsPerCompany = other.maxIdleConnectionsPerCompany ?? maxIdleConnectionsPerCompany
        result.maxIdleConnectionsPerServer = other.maxIdleConnectionsPerServer ?? maxIdleConnectionsPerServer
        return result
    }

    /// The sync engine's settings these describe (defaults where unset).
    ///
    /// - Throws: `SettingsError` for a value out of range or an `imapCAFile` that cannot be read or holds no PEM certificate.
    public func syncSettings() throws -> SyncSettings {
        var sync = SyncSettings()
        if let v = maxConcurrentSyncs {
            guard (1...1024).contains(v) else { throw SettingsError("maxConcurrentSyncs must be 1...1024, got \(v)") }
            sync.maxConcurrentSyncs = v
        }
        if let v = maxConcurrentSyncsPerCompany {
            guard (1...1024).contains(v) else { throw SettingsError("maxConcurrentSyncsPerCompany must be 1...1024, got \(v)") }
            sync.maxConcurrentSyncsPerCompany = v
        }
        if let v = syncRunBudgetSeconds {
            guard v.isFinite, (10...86_400).contains(v) else { throw SettingsError("syncRunBudgetSeconds must be 10...86400, got \(v)") }
            sync.runBudget = .milliseconds(Int64(v * 1000))
        }
        if let v = imapCommandTimeoutSeconds {
            guard v.isFinite, (5...3600).contains(v) else { throw SettingsError("imapCommandTimeoutSeconds must be 5...3600, got \(v)") }
            sync.commandTimeout = .milliseconds(Int64(v * 1000))
        }
        if let v = syncBatchSize {
            guard (1...5000).contains(v) else { throw SettingsError("syncBatchSize must be 1...5000, got \(v)") }
            sync.headersPerBatch = v
        }
        if let v = retroMatchAddressesPerSearch {
            guard (1...100).contains(v) else { throw SettingsError("retroMatchAddressesPerSearch must be 1...100, got \(v)") }
            sync.retroMatchAddressesPerSearch = v
        }
        if let v = retroMatchSearchesPerRun {
            guard (0...10_000).contains(v) else { throw SettingsError("retroMatchSearchesPerRun must be 0...10000, got \(v)") }
            sync.retroMatchSearchesPerRun = v
        }
        if let v = syncBackfillDays {
            guard (0...3650).contains(v) else { throw SettingsError("syncBackfillDays must be 0...3650, got \(v)") }
            sync.backfillWindow = .seconds(Int64(v) * 86_400)
        }
        if let v = syncBodyBytesPerFetch {
            guard ((1 << 20)...(1 << 30)).contains(v) else {
                throw SettingsError("syncBodyBytesPerFetch must be 1048576...1073741824 (1 MiB to 1 GiB), got \(v)")
            }
            sync.maxBodyBytesPerFetch = v
        }
        if let v = imapIdle { sync.idleEnabled = v }
        for (name, value, apply) in [
            ("maxIdleConnections", maxIdleConnections, { (s: inout SyncSettings, v: Int) in s.maxIdleConnections = v }),
            ("maxIdleConnectionsPerCompany", maxIdleConnectionsPerCompany, { $0.maxIdleConnectionsPerCompany = $1 }),
            ("maxIdleConnectionsPerServer", maxIdleConnectionsPerServer, { $0.maxIdleConnectionsPerServer = $1 }),
        ] as [(String, Int?, (inout SyncSettings, Int) -> Void)] {
            guard let value else { continue }
            guard (0...100_000).contains(value) else { throw SettingsError("\(name) must be 0...100000, got \(value)") }
            apply(&sync, value)
        }
        if let file = imapCAFile {
            try TLSFiles.checkTrustBundle(file, setting: "imapCAFile")
            sync.caFile = file
        }
        return sync
    }

    public var dataDirectoryOrDefault: String { dataDirectory ?? "./data" }

    /// Where the server may connect on tenants' behalf (`outboundAllow`, `outboundMailPortsOnly`,
    /// `allowPlaintextMail`).
    ///
    /// - Throws: `SettingsError` naming an `outboundAllow` entry that is neither a network nor a
    ///   host:port.
    public func outboundPolicy() throws -> OutboundPolicy {
        do {
            return try OutboundPolicy(
                allowing: outboundAllow ?? [], mailPortsOnly: outboundMailPortsOnly ?? false, allowPlaintext: allowPlaintextMail ?? false)
        } catch {
            throw SettingsError("outboundAllow: \(error.description)")
        }
    }

    /// `metricsListen` parsed; nil when unset.
    ///
    /// - Throws: `SettingsError` when it is not host:port.
    public func metricsAddress() throws -> (host: String, port: Int)? {
        guard let metricsListen else { return nil }
        do {
            return try Self.parseListen(metricsListen)
        } catch {
            throw SettingsError("metricsListen must be host:port (for example 127.0.0.1:9464), got '\(metricsListen)'")
        }
    }

    /// The transport configuration these settings describe.
    ///
    /// - Throws: `SettingsError` for a malformed address, a value out of range, or TLS half set.
    public func serverConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        let (host, port) = try Self.parseListen(listen ?? "127.0.0.1:7420")
        configuration.host = host
        configuration.port = port
        func positive(_ value: Int?, _ name: String) throws -> UInt32? {
            guard let value else { return nil }
            guard value > 0, value <= Int(UInt32.max) else { throw SettingsError("\(name) must be a positive number, got \(value)") }
            return UInt32(value)
        }
        func seconds(_ value: Double?, _ name: String) throws -> TimeAmount? {
            guard let value else { return nil }
            guard value > 0 else { throw SettingsError("\(name) must be more than 0 seconds, got \(value)") }
            return .nanoseconds(Int64(value * 1e9))
        }
        if let v = openTenantLimit, v < 1 {
            throw SettingsError("openTenantLimit must be at least 1, got \(v)")
        }
        if let v = maxConnections {
            guard v > 0 else { throw SettingsError("maxConnections must be a positive number, got \(v)") }
            configuration.maxConnections = v
        }
        if let v = try positive(maxConcurrentCallsPerConnection, "maxConcurrentCallsPerConnection") { configuration.settings.maxConcurrentCalls = v }
        if let v = try positive(maxMessageBytes, "maxMessageBytes") { configuration.settings.maxMessageSize = v }
        if let v = try positive(maxMetadataBytes, "maxMetadataBytes") { configuration.settings.maxMetadataSize = v }
        if let v = try positive(maxFrameBytes, "maxFrameBytes") {
            guard (ConnectionSettings.minFrameSize...ConnectionSettings.maxFrameSizeLimit).contains(v) else {
                throw SettingsError("maxFrameBytes must be \(ConnectionSettings.minFrameSize)...\(ConnectionSettings.maxFrameSizeLimit), got \(v)")
            }
            configuration.settings.maxFrameSize = v
        }
        if let v = try seconds(idleTimeoutSeconds, "idleTimeoutSeconds") { configuration.idleTimeout = v }
        if let v = try seconds(handshakeTimeoutSeconds, "handshakeTimeoutSeconds") { configuration.handshakeTimeout = v }
        if let v = try seconds(keepaliveIntervalSeconds, "keepaliveIntervalSeconds") { configuration.keepaliveInterval = v }
        if let v = try seconds(shutdownGraceSeconds, "shutdownGraceSeconds") { configuration.shutdownGracePeriod = v }
        configuration.compressionThreshold = compressionThresholdBytes
        switch (tlsCertificateFile, tlsPrivateKeyFile) {
        case (nil, nil): break
        case (let cert?, let key?): configuration.tls = try TLSFiles.serverConfiguration(certificate: cert, privateKey: key)
        default: throw SettingsError("TLS needs both tlsCertificateFile and tlsPrivateKeyFile")
        }
        if configuration.tls == nil, !Self.isLoopback(host), allowPlaintextListen != true {
            throw SettingsError(
                "listening on \(host) without TLS would send API keys and mailbox passwords in clear: give tlsCertificateFile and tlsPrivateKeyFile (--tls-cert, --tls-key), listen on 127.0.0.1, or, behind a TLS-terminating proxy, set allowPlaintextListen (--allow-plaintext)")
        }
        return configuration
    }

    /// 127.0.0.0/8, ::1 and `localhost`: addresses no other machine reaches.
    static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard let address = IPAddress(host) else { return false }
        return IPNetwork("127.0.0.0/8")!.contains(address) || address == IPAddress("::1")
    }

    static func parseListen(_ value: String) throws -> (String, Int) {
        guard let colon = value.lastIndex(of: ":"),
            let port = Int(value[value.index(after: colon)...]), (0...65535).contains(port)
        else {
            throw SettingsError("listen must be host:port (for example 127.0.0.1:7420), got '\(value)'")
        }
        var host = String(value[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw SettingsError("listen needs a host before the port, got '\(value)'") }
        return (host, port)
    }
}

/// A configuration problem, said so that the operator can fix it.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
