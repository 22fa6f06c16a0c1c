import NIOCore
import NIOHTTP1

/// One connection to the observability endpoint: reads one request, answers it, closes.
///
/// Bounds: request headers by NIOHTTP1's parser (80 KiB); a request body (never needed) is
/// discarded up to ``maxBodyBytes``, beyond which the answer is 413 (the rest is read and dropped,
/// nothing is kept); a connection that has not sent a whole request within ``requestTimeout`` is
/// closed. Every answer carries `Connection: close`.
final class ObservabilityHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body read (and ignored). 16 KiB.
    static let maxBodyBytes = 16 * 1024
    /// How long a client may take to send its request. 10 s.
    static let requestTimeout: TimeAmount = .seconds(10)

    private let routes: ObservabilityRoutes
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var answered = false
    private var tooLarge = false
    private var timeout: Scheduled<Void>?

    init(routes: ObservabilityRoutes) {
        self.routes = routes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timeout = context.eventLoop.scheduleTask(in: Self.requestTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if answered {
            // After a 413 the rest of the body is read and dropped (closing with unread bytes
            // would reset the connection before the client reads the answer); the request
            // timeout still bounds how long.
            if case .end = part, tooLarge { context.close(promise: nil) }
            return
        }
        switch part {
        case .head(let head):
            self.head = head
        case .body(let body):
            bodyBytes += body.readableBytes
            if bodyBytes > Self.maxBodyBytes {
                tooLarge = true
                send(ObservabilityRoutes.Response(.payloadTooLarge, "request body too large\n"), context: context, close: false)
            }
        case .end:
            guard let head else { return }
            answered = true
            timeout?.cancel()
            let routes = self.routes
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask {
                await routes.respond(method: head.method, uri: head.uri)
            }.whenSuccess { response in
                let (handler, context) = bound.value
                handler.send(response, context: context)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIOHTTP1's error handler before us has answered a malformed request with 400.
        context.close(promise: nil)
    }

    private func send(_ response: ObservabilityRoutes.Response, context: ChannelHandlerContext, close: Bool = true) {
        answered = true
        if close { timeout?.cancel() }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Connection", value: "close")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        let version = head?.version ?? .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if close { channel.close(promise: nil) }
        }
    }
}
