import NIOCore
import NIOPosix

/// The floor: a raw TCP echo over SwiftNIO, in the same process and on the same event loops as our
/// transport, moving the same bytes per call (see `CallShape`) with no protocol work at all.
///
/// The server counts bytes: for every `request.readableBytes` received it writes one canned
/// response, flushing once per read burst (as our server does). The client writes one canned
/// request per call and completes the oldest outstanding call for every `response.readableBytes`
/// received; writes from calls made in the same event-loop turn share one flush (as our client's
/// do). A call is `async` and completes an `EventLoopPromise`, so the floor also pays the one hop
/// between a caller's task and the event loop that any async API over NIO pays.
enum Floor {
    final class Server: Sendable {
        let channel: any Channel

        private init(channel: any Channel) { self.channel = channel }

        static func start(shape: CallShape, group: any EventLoopGroup) async throws -> Server {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ServerHandler(shape: shape))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            return Server(channel: channel)
        }

        var port: Int { channel.localAddress!.port! }

        func stop() async { try? await channel.close() }
    }

    final class ServerHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let requestSize: Int
        private let response: ByteBuffer
        private var pending = 0
        private var wrote = false

        init(shape: CallShape) {
            requestSize = shape.request.readableBytes
            response = shape.response
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += unwrapInboundIn(data).readableBytes
            while pending >= requestSize {
                pending -= requestSize
                context.write(wrapOutboundOut(response), promise: nil)
                wrote = true
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if wrote {
                wrote = false
                context.flush()
            }
        }
    }

    /// One client connection; calls on it may overlap (answers come back in order).
    final class Client: @unchecked Sendable {
        let channel: any Channel
        private let handler: ClientHandler

        private init(channel: any Channel, handler: ClientHandler) {
            self.channel = channel
            self.handler = handler
        }

        static func connect(port: Int, shape: CallShape, group: any EventLoopGroup) async throws -> Client {
            let loop = group.next()
            let handler = ClientHandler(shape: shape)
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: "127.0.0.1", port: port)
                .get()
            return Client(channel: channel, handler: handler)
        }

        func call() async throws {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            let handler = self.handler
            channel.eventLoop.execute { handler.send(promise) }
            try await promise.futureResult.get()
        }

        func close() async { try? await channel.close() }
    }

    final class ClientHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let request: ByteBuffer
        private let responseSize: Int
        private var context: ChannelHandlerContext?
        private var outstanding = CircularBuffer<EventLoopPromise<Void>>()
        private var received = 0
        private var flushScheduled = false

        init(shape: CallShape) {
            request = shape.request
            responseSize = shape.response.readableBytes
        }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func send(_ promise: EventLoopPromise<Void>) {
            guard let context else {
                promise.fail(ChannelError.ioOnClosedChannel)
                return
            }
            outstanding.append(promise)
            context.write(wrapOutboundOut(request), promise: nil)
            guard !flushScheduled else { return }
            flushScheduled = true
            context.eventLoop.execute {
                self.flushScheduled = false
                self.context?.flush()
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytes
            while received >= responseSize, let promise = outstanding.popFirst() {
                received -= responseSize
                promise.succeed()
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.context = nil
            while let promise = outstanding.popFirst() { promise.fail(ChannelError.ioOnClosedChannel) }
            context.fireChannelInactive()
        }
    }
}
