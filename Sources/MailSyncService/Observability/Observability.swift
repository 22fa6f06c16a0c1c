import Logging
public import NIOCore
import NIOConcurrencyHelpers

/// A server's metrics, readiness and their HTTP endpoint, with the periodic mailbox status count.
///
/// Life: ``startEndpoint()`` first (so `/healthz` answers and `/readyz` says `starting` while the
/// databases open), ``serving(_:)`` once the RPC server listens, ``beginDraining()`` when a shutdown
/// begins, ``stop()`` at its very end. Without a `metricsListen` address no port is opened, but
/// the metrics are still kept (``metrics``) and readiness still tracked.
public final class Observability: Sendable {
    /// This server's Prometheus registry and factory.
    public let metrics = ServerMetrics()
    /// What `/readyz` answers.
    public let readiness = Readiness()
    private let listen: (host: String, port: Int)?
    private let refreshInterval: Duration
    private let logger: Logger
    private struct Running {
        var endpoint: ObservabilityEndpoint?
        var refresher: Task<Void, Never>?
        var environment: ServiceEnvironment?
    }
    private let running = NIOLockedValueBox(Running())

    /// - Parameters:
    ///   - listen: where the HTTP endpoint listens; nil: nowhere.
    ///   - refreshInterval: how often mailboxes are counted by status. Default 60 s.
    init(listen: (host: String, port: Int)?, refreshInterval: Duration = MailboxStatusRefresher.defaultInterval, logger: Logger) {
        self.listen = listen
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    /// The endpoint's bound address, while it listens.
    public var endpointAddress: SocketAddress? {
        running.withLockedValue { $0.endpoint }?.localAddress
    }

    /// Opens the HTTP endpoint when an address is set.
    ///
    /// - Throws: when the address cannot be bound.
    func startEndpoint() async throws {
        guard let listen else { return }
        let routes = ObservabilityRoutes(metrics: { [self] in await scrape() }, readiness: readiness)
        let endpoint = try await ObservabilityEndpoint.start(host: listen.host, port: listen.port, routes: routes)
        running.withLockedValue { $0.endpoint = endpoint }
        logger.info("metrics and health checks listening", metadata: ["address": "\(endpoint.localAddress.map { "\($0)" } ?? "?")"])
    }

    /// The RPC server listens: sync metrics go to this registry, mailboxes are counted
    /// periodically, and readiness follows the control database.
    func serving(_ environment: ServiceEnvironment) {
        environment.metrics.use(metrics.factory)
        let refresher = MailboxStatusRefresher(env: environment, metrics: environment.metrics, interval: refreshInterval, logger: logger)
        running.withLockedValue {
            $0.environment = environment
            $0.refresher = refresher.start()
        }
        readiness.markReady { _ = try await environment.control.read { try $0.scalar("SELECT 1") } }
    }

    /// Counts mailboxes by status now (tests; the periodic count does the same).
    public func refreshMailboxStatuses() async {
        guard let environment = running.withLockedValue({ $0.environment }) else { return }
        await MailboxStatusRefresher(env: environment, metrics: environment.metrics, interval: refreshInterval, logger: logger).refresh()
    }

    /// Marks the server as not ready and stops the periodic count.
    func beginDraining() {
        readiness.markDraining()
        running.withLockedValue {
            $0.refresher?.cancel()
            $0.refresher = nil
        }
    }

    /// Closes the endpoint.
    func stop() async {
        beginDraining()
        let endpoint = running.withLockedValue { running in
            defer { running = Running() }
            return running.endpoint
        }
        await endpoint?.stop()
    }

    /// The gauges read on demand, then the whole registry in text format.
    func scrape() async -> [UInt8] {
        if let environment = running.withLockedValue({ $0.environment }) {
            environment.metrics.setOpenTenants(environment.tenants.statistics.openCount)
            if let companies = environment.fleetCompanies { environment.metrics.setFleet(companies.snapshot()) }
        }
        return metrics.exposition()
    }
}
