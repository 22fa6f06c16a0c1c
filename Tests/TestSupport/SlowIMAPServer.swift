import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A hostile IMAP server on a free 127.0.0.1 port: it logs anyone in at once (any user, any
/// password; LOGIN or AUTHENTICATE PLAIN), then answers every later command with one byte per
/// `interval` of an untagged response that never ends and never completes the command — the
/// server that used to hold a sync slot for ever.
///
/// Counts the connections it accepted. Stop it with ``stop()`` in the test that started it.
public final class SlowIMAPServer: Sendable {
    public let port: Int
    private let channel: any Channel
    private let children: NIOLockedValueBox<[any Channel]>

    private init(port: Int, channel: any Channel, children: NIOLockedValueBox<[any Channel]>) {
        self.port = port
        self.channel = channel
        self.children = children
    }

    /// Connections accepted so far.
    public var accepted: Int { children.withLockedValue { $0.count } }

    public static func start(interval: TimeAmount = .seconds(1)) async throws -> SlowIMAPServer {
        let children = NIOLockedValueBox<[any Channel]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                children.withLockedValue { $0.append(child) }
                return child.pipeline.addHandlers([
                    ByteToMessageHandler(LineDecoder()), SlowIMAPHandler(interval: interval),
                ])
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return SlowIMAPServer(port: channel.localAddress!.port!, channel: channel, children: children)
    }

    /// Stops listening and closes every connection it accepted.
    public func stop() async {
        try? await channel.close()
        for child in children.withLockedValue({ $0 }) { try? await child.close() }
    }
}

private struct LineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > 64 * 1024 { throw ByteToMessageDecoderError.PayloadTooLargeError() }
            return .needMoreData
        }
        let length = end - buffer.readerIndex + 1
        let line = buffer.readString(length: length) ?? ""
        context.fireChannelRead(Self.wrapInboundOut(line.trimmingCharacters(in: .newlines)))
        return .continue
    }
}

private final class SlowIMAPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer

    private let interval: TimeAmount
    private var loggedIn = false
    private var pendingAuthenticate: String?
    private var dripping = false
    private static let drip = Array("* OK still working on it, please wait\r\n".utf8)

    init(interval: TimeAmount) { self.interval = interval }

    func channelActive(context: ChannelHandlerContext) {
        send(context, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] slow server ready\r\n")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if let tag = pendingAuthenticate {
            pendingAuthenticate = nil
            loggedIn = true
            send(context, "\(tag) OK [CAPABILITY IMAP4rev1 ESEARCH] logged in\r\n")
            return
        }
        let words = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard words.count >= 2 else { return }
        let (tag, command) = (words[0], words[1].uppercased())
        switch command {
        case "CAPABILITY" where !loggedIn:
            send(context, "* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR\r\n\(tag) OK done\r\n")
        case "LOGIN" where !loggedIn:
            loggedIn = true
            send(context, "\(tag) OK [CAPABILITY IMAP4rev1 ESEARCH] logged in\r\n")
        case "AUTHENTICATE" where !loggedIn:
            if words.count == 3, words[2].split(separator: " ").count == 2 {
                loggedIn = true
                send(context, "\(tag) OK [CAPABILITY IMAP4rev1 ESEARCH] logged in\r\n")
            } else {
                pendingAuthenticate = tag
                send(context, "+ \r\n")
            }
        case "LOGOUT":
            send(context, "* BYE\r\n\(tag) OK bye\r\n")
            context.close(promise: nil)
        default:
            guard !dripping else { return }
            dripping = true
            dripByte(context, 0)
        }
    }

    private func dripByte(_ context: ChannelHandlerContext, _ index: Int) {
        guard context.channel.isActive else { return }
        var buffer = context.channel.allocator.buffer(capacity: 1)
        buffer.writeInteger(Self.drip[index % Self.drip.count])
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: interval) {
            let (handler, context) = loopBound.value
            handler.dripByte(context, index + 1)
        }
    }

    private func send(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
