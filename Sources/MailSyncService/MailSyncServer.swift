import Foundation
public import Logging
import MailSyncCoding
import MailSyncRPC
import MailSyncTransport
import NIOCore
public import ServiceLifecycle

/// The Mail Sync server process: the RPC server with every schema method, run as a
/// swift-service-lifecycle `Service` so SIGTERM and SIGINT shut it down gracefully.
///
/// On start it creates the data directory (mode 0700) if missing. On graceful shutdown it stops
/// accepting, lets calls in flight finish within the grace period, then returns.
public final class MailSyncServer: Service, Sendable {
    public let settings: ServerSettings
    private let rpcServer: RPCServer
    private let logger: Logger

    /// - Throws: `SettingsError` for settings that cannot work (bad address, TLS files, ranges).
    public init(settings: ServerSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        let configuration = try settings.serverConfiguration()
        let now = Date().timeIntervalSince1970
        let router = Router(methods: ServiceMethods.make(startedAt: Timestamp(secondsSinceEpoch: now)), authenticator: nil)
        self.rpcServer = RPCServer(configuration: configuration, router: router, logger: logger)
    }

    /// Binds and starts serving; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        try Self.prepareDataDirectory(settings.dataDirectoryOrDefault)
        return try await rpcServer.start()
    }

    public func shutdown() async {
        await rpcServer.shutdownGracefully()
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
