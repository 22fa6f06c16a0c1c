import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A hostile mail server for tests: listens on 127.0.0.1 (a free port), accepts every connection,
/// counts it, reads and drops whatever arrives, and never answers, so a client waits for a
/// greeting until its own timeout. ``closeAll()`` hangs up on every connection (the clients see the
/// connection closed); ``stop()`` also stops listening.
public final class TarpitServer: Sendable {
    public let port: Int
    private let listener: any Channel
    private let state: NIOLockedValueBox<State>

    private struct State {
        var accepted = 0
        var open: [ObjectIdentifier: any Channel] = [:]
    }

    private final class Tracker: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let server: TarpitServer

        init(_ server: TarpitServer) { self.server = server }

        func channelActive(context: ChannelHandlerContext) {
            let channel = context.channel
            server.state.withLockedValue {
                $0.accepted += 1
                $0.open[ObjectIdentifier(channel)] = channel
            }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            let id = ObjectIdentifier(context.channel)
            server.state.withLockedValue { _ = $0.open.removeValue(forKey: id) }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // dropped: never answered
    }

    private init(port: Int, listener: any Channel, state: NIOLockedValueBox<State>) {
        self.port = port
        self.listener = listener
        self.state = state
    }

    /// Starts listening on 127.0.0.1 on a free port.
    public static func start() async throws -> TarpitServer {
        let state = NIOLockedValueBox(State())
        let holder = NIOLockedValueBox<TarpitServer?>(nil)
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let server = holder.withLockedValue({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.addHandler(Tracker(server))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = listener.localAddress?.port else {
            try? await listener.close()
            throw ChannelError.ioOnClosedChannel
        }
        let server = TarpitServer(port: port, listener: listener, state: state)
        holder.withLockedValue { $0 = server }
        return server
    }

    /// Runs `body` with a started tarpit and stops it afterwards, whether `body` returns or throws.
    public static func with<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (TarpitServer) async throws -> Result
    ) async throws -> Result {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Connections accepted so far.
    public var accepted: Int { state.withLockedValue { $0.accepted } }

    /// Connections still open.
    public var openConnections: Int { state.withLockedValue { $0.open.count } }

    /// Hangs up on every open connection.
    public func closeAll() async {
        let channels = state.withLockedValue { Array($0.open.values) }
        for channel in channels { try? await channel.close() }
    }

    /// Stops listening and hangs up on every connection.
    public func stop() async {
        try? await listener.close()
        await closeAll()
    }

    /// Waits until `condition` holds, checking every 10 ms; returns false if `timeout` passes first.
    public func wait(timeout: Duration = .seconds(20), until condition: (TarpitServer) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}
