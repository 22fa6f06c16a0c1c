import NIOCore
import NIOHTTP1
import NIOPosix

/// The small HTTP/1.1 server for metrics and health checks, on its own port (setting
/// `metricsListen`), separate from the RPC port so that scrapers and probes need no API key.
///
/// GET only, one request per connection (see ``ObservabilityHTTPHandler`` for the bounds), on the
/// process-wide NIO event loops. It serves no data of any company beyond aggregate counts; keep it
/// on a private address.
final class ObservabilityEndpoint: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Binds and starts answering.
    ///
    /// - Throws: when the address cannot be bound (in use, not local).
    static func start(host: String, port: Int, routes: ObservabilityRoutes) async throws -> ObservabilityEndpoint {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ObservabilityHTTPHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        return ObservabilityEndpoint(channel: channel)
    }

    /// The bound address (useful with port 0).
    var localAddress: SocketAddress? { channel.localAddress }

    /// Stops listening; requests being answered finish on their own connections.
    func stop() async {
        try? await channel.close()
    }
}
