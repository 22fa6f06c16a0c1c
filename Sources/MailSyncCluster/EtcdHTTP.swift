import NIOCore
import NIOHTTP1
import NIOPosix

/// One JSON POST to an etcd member's gateway (`/v3/...`) over HTTP/1.1 on a connection of its
/// own (`Connection: close`), on SwiftNIO's event loops: nothing blocks a thread.
///
/// Limits: the reply body is at most `maxReplyBytes` (default 4 MiB; more ends the request as
/// ``EtcdError/badReply(_:)``); the connect takes at most `connectTimeout`, the whole request at
/// most `timeout`. A connection that fails, closes early or times out is
/// ``EtcdError/unavailable(_:)`` so the caller may try another member.
struct EtcdHTTP: Sendable {
    struct Reply: Sendable {
        var status: Int
        var body: [UInt8]
    }

    var group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    var connectTimeout: Duration = .seconds(2)
    var timeout: Duration = .seconds(5)
    var maxReplyBytes = 4 << 20

    func post(_ endpoint: EtcdEndpoint, path: String, body: [UInt8]) async throws -> Reply {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Reply.self)
        let limit = maxReplyBytes
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ReplyCollector(promise: promise, limit: limit))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            promise.fail(error)
            throw EtcdError.unavailable("\(endpoint): \(error)")
        }
        let deadline = eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
            promise.fail(EtcdError.unavailable("\(endpoint) did not answer within \(timeout)"))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: "\(body.count)")
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as EtcdError {
            throw error
        } catch {
            throw EtcdError.unavailable("\(endpoint): \(error)")
        }
    }
}

/// Collects one HTTP reply into the promise; fails it when the body passes the limit or the
/// connection ends first. Lives on its channel's event loop only.
private final class ReplyCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<EtcdHTTP.Reply>
    private let limit: Int
    private var status = 0
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<EtcdHTTP.Reply>, limit: Int) {
        self.promise = promise
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= limit else {
                finish(.failure(EtcdError.badReply("the reply passed \(limit) bytes")))
                context.close(promise: nil)
                return
            }
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            finish(.success(.init(status: status, body: body)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(EtcdError.unavailable("the connection closed before the reply ended")))
        context.fireChannelInactive()
    }

    private func finish(_ result: Result<EtcdHTTP.Reply, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}
