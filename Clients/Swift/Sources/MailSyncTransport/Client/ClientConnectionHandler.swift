import Logging
import MailSyncRPC
import MailSyncWire
import NIOCore

/// One client connection: handshake, call multiplexing, flow control, deadlines, keepalive and
/// GOAWAY. Event-loop bound; callers reach it through `eventLoop.execute`.
///
/// Calls beyond the server's `maxConcurrentCalls` wait, in order, for a free slot. After a GOAWAY
/// the connection takes no new calls; calls the server did not process fail with `unavailable`
/// (safe to retry), the others run to completion.
final class ClientConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase: Equatable {
        case connecting
        case awaitingPreface
        case awaitingSettings
        case ready
        case draining(lastStreamID: UInt32)
        case closed
    }

    private let configuration: ClientConfiguration
    private let logger: Logger
    private var local: ConnectionSettings { configuration.settings }
    /// Completes when the server's SETTINGS arrive; fails if the connection ends first.
    let ready: EventLoopPromise<Void>
    /// Called once when the connection stops taking new calls (GOAWAY or closed).
    var onUnusable: (@Sendable () -> Void)?

    private var context: ChannelHandlerContext?
    private(set) var phase = Phase.connecting
    private(set) var remote = ConnectionSettings.defaults
    private var input: ByteBuffer?
    private var decoder: FrameDecoder
    private var scheduler: OutboundScheduler
    private var connectionReceive: ReceiveWindow
    private var streams: [UInt32: ClientStream] = [:]
    private var waiting = CircularBuffer<ClientStream>()
    private var nextStreamID: UInt32 = 1
    private var out = ByteBuffer()
    private var flushScheduled = false
    private let keepalive = Keepalive()
    private var closeReason = RPCError(.unavailable, "the connection closed")
    private var readyCompleted = false

    init(configuration: ClientConfiguration, logger: Logger, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.logger = logger
        self.ready = eventLoop.makePromise()
        self.decoder = FrameDecoder(maxFrameSize: configuration.settings.maxFrameSize)
        self.scheduler = OutboundScheduler(
            connectionWindow: ConnectionSettings.defaults.initialConnectionWindow,
            maxFrameSize: ConnectionSettings.defaults.maxFrameSize)
        self.connectionReceive = ReceiveWindow(initial: configuration.settings.initialConnectionWindow)
    }

    var eventLoop: (any EventLoop)? { context?.eventLoop }

    /// What this client announced (immutable).
    var configurationSettings: ConnectionSettings { configuration.settings }
    /// The server's settings; fixed once the connection is ready, which is before any stream is made.
    var remoteSettingsSnapshot: ConnectionSettings { remote }

    /// Whether new calls may start here.
    var isUsable: Bool { phase == .ready }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        out = context.channel.allocator.buffer(capacity: 4096)
        if context.channel.isActive { start(context) }
    }

    /// The channel is gone (also when it never became active, as after a failed connect): fails
    /// what is still waiting, then drops the context, which holds this handler: keeping it would
    /// keep both after the close.
    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown(closeReason)
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard phase == .connecting else { return }
        phase = .awaitingPreface
        Preface().write(to: &out)
        FrameEncoder.write(.settings(local), to: &out)
        flushNow()
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown(closeReason)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeReason = RPCError(.unavailable, "the connection failed: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closed else { return }
        var bytes = unwrapInboundIn(data)
        keepalive.readHappened()
        InputAccumulator.append(&bytes, to: &input, allocator: context.channel.allocator)
        do {
            try processInput()
        } catch {
            fail(error)
            return
        }
        if input?.readableBytes == 0 { input = nil }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushNow()
    }

    // MARK: Input

    private func processInput() throws(ProtocolError) {
        while input != nil, phase != .closed {
            if phase == .awaitingPreface {
                switch Preface.parse(&input!) {
                case .needMoreBytes: return
                case .invalid(let error):
                    throw ProtocolError(error.code, "the server did not answer with the Mail Sync preface: \(error.message)")
                case .preface(let preface):
                    guard preface.version == Preface.currentVersion else {
                        throw ProtocolError(
                            .unsupportedVersion,
                            "the server speaks protocol version \(preface.version); this client speaks \(Preface.currentVersion)")
                    }
                    phase = .awaitingSettings
                }
                continue
            }
            guard let frame = try decoder.next(from: &input!) else { return }
            try handle(frame)
        }
    }

    private func handle(_ frame: Frame) throws(ProtocolError) {
        if phase == .awaitingSettings {
            if case .goAway(let goAway) = frame {
                throw ProtocolError(goAway.code, "the server refused the connection: \(goAway.message)")
            }
            guard case .settings(let settings) = frame else {
                throw ProtocolError(.protocolError, "the server's first frame was not SETTINGS")
            }
            remote = settings
            scheduler = OutboundScheduler(connectionWindow: settings.initialConnectionWindow, maxFrameSize: settings.maxFrameSize)
            phase = .ready
            startKeepalive()
            readyCompleted = true
            ready.succeed()
            return
        }
        switch frame {
        case .message(let id, let flags, let bytes):
            let size = bytes.readableBytes
            guard connectionReceive.receive(size) else {
                throw ProtocolError(.flowControlError, "the server sent more than the connection window allowed")
            }
            if let increment = connectionReceive.consume(size) {
                FrameEncoder.write(.windowUpdate(streamID: 0, increment: increment), to: &out)
            }
            guard let stream = streams[id], !stream.state.isClosed else { return }
            guard stream.receiveWindow.receive(size) else {
                throw ProtocolError(.flowControlError, "the server sent more than stream \(id)'s window allowed")
            }
            switch stream.assembler.append(flags: flags, bytes: bytes, maxMessageSize: Int(local.maxMessageSize)) {
            case .success(let item?):
                if !stream.inbound.push(item) {
                    cancel(stream, reason: "too many unread messages",
                           status: RPCError(.resourceExhausted, "the server sent more than \(InboundQueue.maxUnreadMessages) messages that were not read"))
                }
            case .success(nil): creditPartial(size, on: stream, id: id)
            case .failure(.stream(let error)): cancel(stream, reason: error.message, status: error)
            case .failure(.connection(let error)): throw error
            }
        case .status(let id, let payload):
            guard let stream = streams[id] else { return }
            var trailers = Metadata()
            for (key, value) in payload.metadata { trailers.add(key, value) }
            let status = Status(code: StatusCode(rawValue: payload.code), message: payload.message, details: payload.details, trailers: trailers)
            close(stream, status.error.map { .failure($0) } ?? .success(()), discardBuffered: false)
        case .windowUpdate(let id, let increment):
            if id == 0 {
                guard scheduler.connectionWindow.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the connection window would exceed 2^31-1")
                }
            } else if let stream = streams[id] {
                guard stream.outbound.window.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the window of stream \(id) would exceed 2^31-1")
                }
                scheduler.markReady(id, stream.outbound)
            }
        case .ping(let ack, let data):
            if ack {
                keepalive.pingAnswered()
            } else {
                FrameEncoder.write(.ping(ack: true, data: data), to: &out)
            }
        case .goAway(let goAway):
            receiveGoAway(goAway)
        case .settingsAck:
            return
        case .settings:
            throw ProtocolError(.protocolError, "SETTINGS may be sent only once per connection")
        case .callStart, .endStream, .cancel:
            throw ProtocolError(.protocolError, "a server may not send \(frame)")
        }
    }

    private func receiveGoAway(_ goAway: GoAway) {
        if goAway.code != .noError {
            logger.info("server sent GOAWAY", metadata: ["code": "\(goAway.code)", "message": "\(goAway.message)"])
            closeReason = RPCError(.unavailable, "the server closed the connection: \(goAway.code): \(goAway.message)")
        }
        if case .draining = phase {} else { phase = .draining(lastStreamID: goAway.lastStreamID) }
        onUnusable?()
        let notProcessed = RPCError(.unavailable, "the server is going away and did not process this call (\(goAway.message)); it is safe to retry")
        for stream in streams.values where stream.id > goAway.lastStreamID {
            close(stream, .failure(notProcessed), discardBuffered: true)
        }
        while let stream = waiting.popFirst() { close(stream, .failure(notProcessed), discardBuffered: true) }
        closeIfDrained()
    }

    // MARK: Calls (event loop)

    /// Starts a call: opens it now, or queues it until a slot frees.
    func open(_ stream: ClientStream) {
        guard phase == .ready else {
            let error: RPCError = phase == .closed ? closeReason : RPCError(.unavailable, "the connection is not accepting new calls")
            close(stream, .failure(error), discardBuffered: true)
            return
        }
        if let problem = Self.metadataProblem(stream.options.metadata, limit: Int(remote.maxMetadataSize)) {
            close(stream, .failure(problem), discardBuffered: true)
            return
        }
        if let timeout = stream.options.timeout, let loop = context?.eventLoop {
            // The deadline runs from now, including any wait for a free call slot.
            let micros = Self.microseconds(timeout)
            stream.deadline = .now() + .microseconds(micros)
            stream.deadlineTimer = loop.scheduleTask(in: .microseconds(micros)) { [self] in
                cancel(stream, reason: "the deadline passed", status: RPCError(.deadlineExceeded, "the call did not finish within \(timeout)"))
            }
        }
        if streams.count >= Int(remote.maxConcurrentCalls) {
            waiting.append(stream)
        } else {
            activate(stream)
        }
        scheduleFlush()
    }

    private func activate(_ stream: ClientStream) {
        guard context != nil else { return }
        let id = nextStreamID
        nextStreamID += 2
        if nextStreamID > Self.maxStreamID {
            // Ids run out after about a billion calls: new calls go to a new connection.
            phase = .draining(lastStreamID: id)
            onUnusable?()
        }
        stream.id = id
        streams[id] = stream
        // Without a request id from the caller, the server makes one up.
        let metadata = stream.options.metadata
        var timeoutMicros: UInt64 = 0
        if let deadline = stream.deadline {
            timeoutMicros = UInt64(max(1, (deadline - .now()).nanoseconds / 1000))
        }
        let start = CallStart(
            method: stream.method.fullName, timeoutMicroseconds: timeoutMicros,
            metadata: metadata.map { (key: $0.key, value: $0.value) })
        // CALL_START goes first in the stream's queue: messages queued while it waited follow it.
        for index in stream.outbound.items.indices {
            if case .frame(.endStream) = stream.outbound.items[index] {
                stream.outbound.items[index] = .frame(.endStream(streamID: id))
            }
        }
        stream.outbound.items.prepend(.frame(.callStart(streamID: id, start)))
        stream.outbound.isScheduled = false
        scheduler.markReady(id, stream.outbound)
    }

    func enqueue(_ item: StreamOutbound.Item, on stream: ClientStream) {
        guard !stream.state.isClosed, stream.state.state == .open else {
            if case .message(_, _, let promise?) = item {
                promise.fail(RPCError(.failedPrecondition, "the call has finished sending or has ended"))
            }
            return
        }
        if stream.id == 0 {
            stream.outbound.items.append(item)
        } else {
            scheduler.enqueue(item, streamID: stream.id, on: stream.outbound)
            scheduleFlush()
        }
    }

    func enqueueEndStream(on stream: ClientStream) {
        guard stream.state.closeSending() else { return }
        if stream.id == 0 {
            stream.outbound.items.append(.frame(.endStream(streamID: 0)))
        } else {
            scheduler.enqueue(.frame(.endStream(streamID: stream.id)), streamID: stream.id, on: stream.outbound)
            scheduleFlush()
        }
    }

    func consumed(_ bytes: Int, on stream: ClientStream) {
        guard stream.id != 0, !stream.state.isClosed, let increment = stream.receiveWindow.consume(bytes) else { return }
        FrameEncoder.write(.windowUpdate(streamID: stream.id, increment: increment), to: &out)
        scheduleFlush()
    }

    /// Abandons a call: CANCEL to the server (if it was opened), and the caller gets `status`.
    func cancel(_ stream: ClientStream, reason: String, status: RPCError? = nil) {
        guard !stream.state.isClosed else { return }
        let error = status ?? RPCError(.cancelled, reason)
        if stream.id != 0 {
            stream.outbound.discard(error)
            FrameEncoder.write(.cancel(streamID: stream.id, CancelPayload(code: error.code.rawValue, reason: reason)), to: &out)
        }
        close(stream, .failure(error), discardBuffered: true)
        scheduleFlush()
    }

    private func close(_ stream: ClientStream, _ result: Result<Void, RPCError>, discardBuffered: Bool) {
        guard stream.state.close() else { return }
        let error: RPCError
        switch result {
        case .success: error = RPCError(.failedPrecondition, "the call has ended")
        case .failure(let failure): error = failure
        }
        stream.markClosed(error)
        stream.deadlineTimer?.cancel()
        stream.outbound.discard(error)
        stream.inbound.finish(result, discardBuffered: discardBuffered)
        if stream.id != 0 {
            streams[stream.id] = nil
        } else if let index = waiting.firstIndex(where: { $0 === stream }) {
            waiting.remove(at: index)
        }
        while phase == .ready, streams.count < Int(remote.maxConcurrentCalls), let next = waiting.popFirst() {
            activate(next)
        }
        closeIfDrained()
    }

    private func closeIfDrained() {
        if case .draining = phase, streams.isEmpty, waiting.isEmpty {
            flushNow()
            context?.close(promise: nil)
        }
    }

    /// Credits a fragment of a message that is not complete yet, when the reader is waiting for
    /// it (see `MessageAssembler`).
    private func creditPartial(_ size: Int, on stream: ClientStream, id: UInt32) {
        guard stream.inbound.isDrained else { return }
        stream.assembler.credited(size)
        if let increment = stream.receiveWindow.consume(size) {
            FrameEncoder.write(.windowUpdate(streamID: id, increment: increment), to: &out)
        }
    }

    static let maxStreamID: UInt32 = 0x7FFF_FFFF

    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let clamped = min(max(seconds, 0), 100 * 365 * 86_400)  // a century is "no deadline" enough
        return max(1, clamped * 1_000_000 + attoseconds / 1_000_000_000_000)
    }

    /// Why metadata cannot be sent, checked before encoding so that only this call fails.
    static func metadataProblem(_ metadata: Metadata, limit: Int) -> RPCError? {
        for (key, value) in metadata {
            guard Metadata.isValidKey(key) else {
                return RPCError(.invalidArgument, "metadata key '\(key)' must be 1–128 characters of a-z 0-9 - _ .")
            }
            guard value.utf8.count <= 65_535 else {
                return RPCError(.invalidArgument, "the value of metadata '\(key)' is over 65,535 bytes")
            }
        }
        guard metadata.count <= 65_535, metadata.encodedSize <= limit else {
            return RPCError(.resourceExhausted, "the call's metadata takes \(metadata.encodedSize) bytes, over the server's limit of \(limit)")
        }
        return nil
    }

    // MARK: Output

    private func scheduleFlush() {
        guard !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.execute { self.flushNow() }
    }

    private func flushNow() {
        flushScheduled = false
        guard let context, phase != .closed else { return }
        let completed = scheduler.drain(into: &out) { streams[$0]?.outbound }
        if out.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            out = context.channel.allocator.buffer(capacity: 4096)
        }
        for promise in completed { promise.succeed() }
    }

    private func startKeepalive() {
        guard let loop = context?.eventLoop else { return }
        let timeout = configuration.keepaliveTimeout
        keepalive.start(on: loop, interval: configuration.keepaliveInterval, timeout: timeout) { [unowned self] in
            FrameEncoder.write(.ping(ack: false, data: UInt64.random(in: 0...UInt64.max)), to: &out)
            flushNow()
        } onTimeout: { [unowned self] in
            fail(ProtocolError(.keepaliveTimeout, "the server did not answer a ping within \(timeout.seconds) s"))
        }
    }

    // MARK: Ending

    /// Closes the connection gracefully: no new calls; calls in flight finish first.
    func closeGracefully() {
        switch phase {
        case .ready:
            FrameEncoder.write(.goAway(GoAway(lastStreamID: 0, code: .noError, message: "client closing")), to: &out)
            phase = .draining(lastStreamID: UInt32.max)
            onUnusable?()
            closeIfDrained()
            flushNow()
        case .closed, .draining:
            return
        default:
            context?.close(promise: nil)
        }
    }

    private func fail(_ error: any Error) {
        guard phase != .closed else { return }
        let protocolError = (error as? ProtocolError) ?? ProtocolError(.internalError, "\(error)")
        closeReason = RPCError(.unavailable, "the connection failed: \(protocolError)")
        if phase != .awaitingPreface {
            FrameEncoder.write(.goAway(GoAway(lastStreamID: 0, code: protocolError.code, message: protocolError.message)), to: &out)
            flushNow()
        }
        context?.close(promise: nil)
        shutDown(closeReason)
    }

    private func shutDown(_ error: RPCError) {
        guard phase != .closed else { return }
        phase = .closed
        onUnusable?()
        if !readyCompleted { ready.fail(error) }
        keepalive.stop()
        for stream in Array(streams.values) + Array(waiting) {
            close(stream, .failure(error), discardBuffered: true)
        }
        streams.removeAll()
        waiting.removeAll()
    }
}
