import MailSyncWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A plain TCP socket for hostile-input tests: sends exactly the bytes given and records every
/// byte the server sends back, and when the server closed.
public final class RawConnection: Sendable {
    private let channel: any Channel
    private let collector: Collector

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private struct State {
            var received: [UInt8] = []
            var closed = false
        }
        private let state = NIOLockedValueBox(State())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLockedValue { $0.received += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.closed = true }
        }

        var received: [UInt8] { state.withLockedValue { $0.received } }
        var closed: Bool { state.withLockedValue { $0.closed } }
    }

    public static func connect(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawConnection(channel: channel, collector: collector)
    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    public func send(_ build: (inout ByteBuffer) -> Void) async throws {
        var buffer = ByteBuffer()
        build(&buffer)
        try await channel.writeAndFlush(buffer)
    }

    /// Sends the client preface and default SETTINGS.
    public func handshake(settings: ConnectionSettings = .defaults) async throws {
        try await send { buffer in
            Preface().write(to: &buffer)
            FrameEncoder.write(.settings(settings), to: &buffer)
        }
    }

    public var received: [UInt8] { collector.received }
    public var isClosed: Bool { collector.closed }

    /// The frames received after the server's 12-byte preface.
    public func frames() throws -> [Frame] {
        var buffer = ByteBuffer(bytes: received)
        guard case .preface = Preface.parse(&buffer) else { return [] }
        var decoder = FrameDecoder(maxFrameSize: ConnectionSettings.maxFrameSizeLimit)
        var frames: [Frame] = []
        while let frame = try decoder.next(from: &buffer) { frames.append(frame) }
        return frames
    }

    /// Waits until `condition` holds or `timeout` passes; returns whether it held.
    @discardableResult
    public func wait(timeout: Duration = .seconds(5), until condition: (RawConnection) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }

    /// Waits for the server to close the connection and returns its GOAWAY, if any.
    public func awaitGoAway(timeout: Duration = .seconds(5)) async throws -> GoAway? {
        await wait(timeout: timeout) { $0.isClosed }
        for frame in try frames() { if case .goAway(let goAway) = frame { return goAway } }
        return nil
    }

    /// Shuts this side's sending direction (TCP half-close: a FIN); the server's answers can
    /// still arrive.
    public func shutdownOutput() async throws {
        try await channel.close(mode: .output)
    }

    public func close() async {
        try? await channel.close()
    }
}
