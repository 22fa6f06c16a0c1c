public import CoreMetrics
public import Logging
public import MailSyncRPC
import MailSyncWire
import NIOCore
import NIOPosix
import NIOSSL
import NIOConcurrencyHelpers

/// A server for the Mail Sync protocol over TCP (or TLS), dispatching calls through a `Router`.
///
/// `start()` binds and returns; `shutdownGracefully()` sends GOAWAY on every connection, lets calls
/// in flight finish for up to `shutdownGracePeriod`, then cancels what remains and closes.
public final class RPCServer: Sendable {
    public let configuration: ServerConfiguration
    private let router: Router
    private let placement: HandlerPlacement
    private let logger: Logger
    private let group: any EventLoopGroup
    private let registry: ConnectionRegistry
    private let channelBox = NIOLockedValueBox<(any Channel)?>(nil)
    /// Tests only (`@testable`): sees each connection's handler object as it is created, so a test
    /// can hold it weakly and check it is released after the connection closes. Set before `start()`.
    let handlerObserver = NIOLockedValueBox<(@Sendable (AnyObject) -> Void)?>(nil)

    /// - Parameters:
    ///   - group: event loops to run on; default the process-wide singleton (one per core).
    ///   - metrics: where the open connections gauge goes; default swift-metrics' global factory.
    public init(
        configuration: ServerConfiguration, router: Router, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.configuration = configuration
        self.router = router
        self.placement = HandlerPlacement(configuration: configuration, logger: logger)
        self.logger = logger
        self.group = group
        self.registry = ConnectionRegistry(maxConnections: configuration.maxConnections, metrics: metrics)
    }

    /// Binds the listening socket.
    ///
    /// - Returns: the bound address (useful with port 0, which picks a free port).
    /// - Throws: when the address cannot be bound, or the TLS configuration is invalid.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        let configuration = self.configuration
        let router = self.router
        let placement = self.placement
        let registry = self.registry
        let logger = self.logger
        let observer = handlerObserver.withLockedValue { $0 }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: ReadAllocator.adaptive)
            .childChannelOption(.allowRemoteHalfClosure, value: true)  // answered per docs/protocol.md, section 13
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(
                            configuration: configuration, router: router, placement: placement, registry: registry,
                            logger: logger, onHandlerAdded: observer))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        channelBox.withLockedValue { $0 = channel }
        let address = channel.localAddress!
        logger.info("listening", metadata: ["address": "\(address)", "tls": "\(configuration.tls != nil)"])
        return address
    }

    /// The bound address, once started.
    public var localAddress: SocketAddress? { channelBox.withLockedValue { $0 }?.localAddress }

    /// Connections open now.
    public var connectionCount: Int { registry.count }

    /// Stops accepting, drains calls in flight for up to the grace period, then closes everything.
    public func shutdownGracefully() async {
        try? await channelBox.withLockedValue({ $0 })?.close()
        for connection in registry.beginShutdown() { connection.beginShutdown() }
        let deadline = ContinuousClock.now + .nanoseconds(configuration.shutdownGracePeriod.nanoseconds)
        while registry.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for connection in registry.all() { connection.forceClose() }
        while registry.count > 0 {
            try? await Task.sleep(for: .milliseconds(5))
        }
        logger.info("stopped")
    }
}
