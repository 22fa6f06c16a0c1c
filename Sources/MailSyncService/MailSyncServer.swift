import Foundation
public import Logging
import MailSyncCoding
import MailSyncMailTransport
import MailSyncRPC
import MailSyncStorage
import MailSyncTransport
import NIOCore
import NIOConcurrencyHelpers
public import ServiceLifecycle
import MailSyncTenantData
import MailSyncEngine

/// The Mail Sync server process: the RPC server with every schema method, run as a
/// swift-service-lifecycle `Service` so SIGTERM and SIGINT shut it down gracefully.
///
/// On start it creates the data directory (mode 0700) if missing. On graceful shutdown it stops
/// accepting, lets calls in flight finish within the grace period, then returns.
///
/// Metrics and health checks: see ``Observability`` (the HTTP endpoint opens first when
/// `metricsListen` is set, so `/readyz` says `starting` until the RPC server listens, and
/// `draining` from the moment a shutdown begins).
public final class MailSyncServer: Service, Sendable {
    public let settings: ServerSettings
    /// Metrics, readiness and the HTTP endpoint that serves them.
    public let observability: Observability
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let clock: any WallClock
    private let syncSettings: SyncSettings
    private let providers: ProviderTable
    private let outbound: OutboundPolicy
    private let smartMail: SmartMailSettings
    private let quotas: QuotaSettings
    private let remoteBackup: RemoteBackupTarget?
    private let cluster: ClusterSettings.Resolved?
    private let directoryLock = NIOLockedValueBox<DataDirectoryLock?>(nil)
    private let running = NIOLockedValueBox<(RPCServer, ServiceEnvironment, SyncScheduler)?>(nil)

    /// - Parameters:
    ///   - clock: the time handlers and the sync engine see; tests move it.
    ///   - sync: the sync engine's settings (tests turn its background loop off and drive it).
    /// - Throws: `SettingsError` for settings that cannot work (bad address, TLS files, ranges).
    ///   - environment: where `remoteBackup`'s credentials and backup key come from. Default: the process's.
    public init(
        settings: ServerSettings, logger: Logger, clock: any WallClock = SystemClock(), sync: SyncSettings = SyncSettings(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.syncSettings = sync
        self.configuration = try settings.serverConfiguration()
        self.observability = Observability(listen: try settings.metricsAddress(), logger: logger)
        self.providers = try settings.providerTable()
        self.outbound = try settings.outboundPolicy()
        self.smartMail = try settings.smartMailSettings()
        self.quotas = try settings.quotaSettings()
        self.remoteBackup = try settings.remoteBackup?.resolve(environment: environment)
        self.cluster = try settings.cluster?.resolve(listen: settings.listen ?? "127.0.0.1:7420")
    }

    /// Opens the data directory (creating it, mode 0700, the control database and the secret key
    /// on first start), binds and starts serving; returns the bound address.
    ///
    /// - Throws: `SettingsError` or a storage error saying what to fix.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try await observability.startEndpoint()
        do {
            return try await startServing()
        } catch {
            await observability.stop()
            throw error
        }
    }

    private func startServing() async throws -> SocketAddress {
        let dataDirectory = settings.dataDirectoryOrDefault
        try Self.prepareDataDirectory(dataDirectory)
        // One server per data directory: two would schedule the same mailboxes and race on keys.
        let lock = try DataDirectoryLock.acquire(root: DataDirectory(dataDirectory).root, purpose: "starting another server on it")
        directoryLock.withLockedValue { $0 = lock }
        let environment: ServiceEnvironment
        do {
            environment = try await ServiceEnvironment.open(
                dataDirectory: dataDirectory, tenantCapacity: settings.openTenantLimit ?? 100, clock: clock, providers: providers,
                outbound: outbound, smartMail: smartMail, quotas: quotas, remoteBackup: remoteBackup, cluster: cluster, logger: logger)
        } catch {
            releaseDirectoryLock()
            throw error
        }
        let methods = ServiceMethods.make(environment: environment, sync: syncSettings, startedAt: clock.now())
        let metrics = observability.metrics.factory
        environment.metrics.use(metrics)
        let router = Router(methods: methods, authenticator: environment.authenticator, metrics: metrics)
        let server = RPCServer(configuration: configuration, router: router, logger: logger, metrics: metrics)
        do {
            let address = try await server.start()
            let scheduler = SyncScheduler(env: environment, settings: syncSettings, logger: logger)
            await scheduler.start()
            if let shipping = environment.shipping {
                if let companies = environment.fleetCompanies {
                    // Every node shares the bucket: each ships its own control database, and only
                    // the companies it owns (a stale copy must never become the newest there).
                    await shipping.restrict(controlName: "nodes/\(companies.fleet.node)/control", ships: { await companies.shipsCopy($0) })
                }
                await shipping.start()
                logger.info("backups ship continuously", metadata: ["to": "\(shipping.target.place)", "key": "\(shipping.target.key.fingerprintHex)"])
                let bound = shipping.target.maxLag
                observability.readiness.degrade(when: {
                    guard let lag = await shipping.maxLag, lag > bound else { return nil }
                    return "backup shipping is \(lag) behind (bound \(bound))"
                })
            }
            running.withLockedValue { $0 = (server, environment, scheduler) }
            observability.serving(environment)
            return address
        } catch {
            await environment.close()
            releaseDirectoryLock()
            throw error
        }
    }

    private func releaseDirectoryLock() {
        directoryLock.withLockedValue { lock in
            lock?.release()
            lock = nil
        }
    }

    /// The environment while running (tests reach the databases through it).
    public var environment: ServiceEnvironment? { running.withLockedValue { $0?.1 } }

    /// The sync engine's scheduler while running (tests drive it with `runDue()`).
    public var scheduler: SyncScheduler? { running.withLockedValue { $0?.2 } }

    /// Stops scheduling syncs, drains calls in flight (up to the grace period), then closes the
    /// databases.
    public func shutdown() async {
        observability.beginDraining()
        guard let (server, environment, scheduler) = running.withLockedValue({ $0 }) else {
            await observability.stop()
            return
        }
        await scheduler.stop()
        environment.syncEvents.close()  // watchers end their streams instead of holding the drain up
        await server.shutdownGracefully()
        await environment.shipping?.stop()  // the last commits leave the machine before it closes
        await environment.close()
        running.withLockedValue { $0 = nil }
        releaseDirectoryLock()
        await observability.stop()
    }

    /// Starts, then serves until a graceful shutdown is requested.
    public func run() async throws {
        let address = try await start()
        logger.info("mailsync serving", metadata: [
            "version": "\(MailSyncVersion.current)", "address": "\(address)",
            "data-directory": "\(settings.dataDirectoryOrDefault)",
        ])
        try? await gracefulShutdown()
        logger.info("shutting down: finishing calls in flight")
        await shutdown()
    }

    static func prepareDataDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SettingsError("cannot create the data directory \(path): \(error.localizedDescription)")
        }
    }
}
