import ArgumentParser
import CoreMetrics
import Foundation
import Logging
import MailSyncService
import ServiceLifecycle

/// `mailsync serve`: runs the server until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Mail Sync server.",
        discussion: """
            Settings come from --config (a JSON file, see docs/architecture.md) and then from these \
            flags, which win. Stop with SIGTERM or Ctrl-C: calls in flight get the grace period to finish.
            """
    )

    @Option(help: "A JSON config file.")
    var config: String?

    @Option(help: "host:port to listen on (default 127.0.0.1:7420).")
    var listen: String?

    @Option(help: "Where tenant databases and keys live (default ./data).")
    var dataDir: String?

    @Option(help: "Most connections open at once (default 4096).")
    var maxConnections: Int?

    @Option(help: "Most calls in flight per connection (default 100).")
    var maxConcurrentCalls: Int?

    @Option(help: "Largest message accepted, in bytes, compressed or not (default 4194304).")
    var maxMessageBytes: Int?

    @Option(help: "Seconds calls in flight may take to finish on shutdown (default 30).")
    var shutdownGrace: Double?

    @Option(help: "Company databases kept open while idle; least recently used close first (default 100).")
    var openTenantLimit: Int?

    @Option(help: "PEM certificate chain; with --tls-key, serve TLS only.")
    var tlsCert: String?

    @Option(help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(help: "host:port for GET /metrics, /healthz and /readyz over HTTP (default: off), e.g. 127.0.0.1:9464.")
    var metricsListen: String?

    @Option(name: .customLong("allow-outbound"), help: ArgumentHelp(
        "A network (10.0.0.0/8, 127.0.0.1) or host:port mail servers may be reached at besides public addresses; repeatable (replaces outboundAllow of --config).",
        valueName: "network-or-host:port"))
    var allowOutbound: [String] = []

    @Flag(help: "Allow mail server connections without TLS to any destination (default: only to --allow-outbound ones).")
    var allowPlaintextMail = false

    @Flag(help: "Allow listening without TLS on an address other than loopback (behind a TLS-terminating proxy only).")
    var allowPlaintext = false

    @Option(name: .customLong("cluster-etcd"), help: ArgumentHelp(
        "Run as a fleet node: etcd members' client URLs, comma-separated (http://HOST:PORT,…); with --node-id.", valueName: "urls"))
    var clusterEtcd: String?

    @Option(help: "This node's id in the fleet (a-z, 0-9, '-'; 1-63).")
    var nodeId: String?

    @Option(help: "host:port callers reach this node at, sent in redirects (default: --listen).")
    var advertise: String?

    @Option(help: "The fleet's etcd lease in seconds (default 10).")
    var leaseSeconds: Int?

    func run() async throws {
        var flags = ServerSettings()
        flags.listen = listen
        flags.dataDirectory = dataDir
        flags.maxConnections = maxConnections
        flags.maxConcurrentCallsPerConnection = maxConcurrentCalls
        flags.maxMessageBytes = maxMessageBytes
        flags.shutdownGraceSeconds = shutdownGrace
        flags.openTenantLimit = openTenantLimit
        flags.tlsCertificateFile = tlsCert
        flags.tlsPrivateKeyFile = tlsKey
        flags.logLevel = logLevel
        flags.metricsListen = metricsListen
        flags.outboundAllow = allowOutbound.isEmpty ? nil : allowOutbound
        flags.allowPlaintextMail = allowPlaintextMail ? true : nil
        flags.allowPlaintextListen = allowPlaintext ? true : nil
        if clusterEtcd != nil || nodeId != nil || advertise != nil || leaseSeconds != nil {
            flags.cluster = ClusterSettings(
                etcd: clusterEtcd.map { $0.split(separator: ",").map { String($0) } }, node: nodeId, advertise: advertise,
                leaseSeconds: leaseSeconds)
        }

        let settings: ServerSettings
        let server: MailSyncServer
        var logger = Logger(label: "mailsync")
        do {
            let file = try config.map(ServerSettings.load(from:)) ?? ServerSettings()
            settings = file.overridden(by: flags)
            let level = settings.logLevel ?? "info"
            guard let parsed = Logger.Level(rawValue: level) else {
                throw SettingsError("log level must be one of trace, debug, info, notice, warning, error, critical; got '\(level)'")
            }
            logger.logLevel = parsed
            server = try MailSyncServer(settings: settings, logger: logger, sync: settings.syncSettings())
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("mailsync serve: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        // Libraries' swift-metrics land in the same registry as the server's own.
        MetricsSystem.bootstrap(server.observability.metrics.factory)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}
