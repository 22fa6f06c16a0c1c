import Logging
import MailSyncRPC
import MailSyncWire
import NIOCore
import NIOPosix
import NIOSSL

/// One established connection (after the server's SETTINGS), on which calls are opened.
final class ClientConnection: Sendable {
    let channel: any Channel
    private let handler: ClientConnectionHandler

    private init(channel: any Channel, handler: ClientConnectionHandler) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects, handshakes, and returns once the server's SETTINGS have arrived.
    static func connect(
        host: String, port: Int, configuration: ClientConfiguration, group: any EventLoopGroup, logger: Logger,
        onUnusable: @escaping @Sendable (ClientConnection) -> Void
    ) -> EventLoopFuture<ClientConnection> {
        let loop = group.next()
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        } catch {
            return loop.makeFailedFuture(error)
        }
        let handler = ClientConnectionHandler(configuration: configuration, logger: logger, eventLoop: loop)
        let hostname = configuration.serverHostname ?? host
        return ClientBootstrap(group: loop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: ReadAllocator.adaptive)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let serverName = hostname.first?.isNumber == true ? nil : hostname
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port)
            .flatMap { channel in
                let connection = ClientConnection(channel: channel, handler: handler)
                handler.onUnusable = { [weak connection] in
                    if let connection { onUnusable(connection) }
                }
                let timeout = loop.scheduleTask(in: configuration.connectTimeout) {
                    handler.ready.fail(RPCError(.unavailable, "the server did not complete the handshake within \(configuration.connectTimeout.seconds) s"))
                    channel.close(promise: nil)
                }
                return handler.ready.futureResult.map {
                    timeout.cancel()
                    return connection
                }
            }
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    func makeStream(_ method: MethodDescriptor, options: CallOptions) -> ClientStream {
        ClientStream(
            method: method, options: options, connection: handler, eventLoop: channel.eventLoop,
            local: handler.configurationSettings, remote: handler.remoteSettingsSnapshot)
    }

    /// Starts the call on the event loop (no waiting here: failures reach the stream's reader).
    func open(_ stream: ClientStream) {
        channel.eventLoop.execute { self.handler.open(stream) }
    }

    func closeGracefully() {
        channel.eventLoop.execute { self.handler.closeGracefully() }
    }
}
