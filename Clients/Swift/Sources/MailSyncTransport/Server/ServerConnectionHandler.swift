import Logging
import MailSyncRPC
import MailSyncWire
import NIOCore

/// One server connection on the event loop: reads frames, runs the calls' streams, and carries out
/// what `ServerConnectionState` decides (handshake, draining, GOAWAY, close) and what the streams'
/// flow control allows. Output batching and keepalive are the shared `ConnectionWriter`'s.
/// Event-loop bound; handler tasks reach it only through `eventLoop.execute`.
///
/// Connection errors (anything in `ProtocolError`) are answered with GOAWAY naming the rule that
/// was broken, then the connection closes; other connections are unaffected. Stream errors
/// (oversized message or metadata, too many calls) end only that call, with a STATUS.
final class ServerConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A way to reach a connection from another thread.
    struct Handle: Sendable {
        let id: ObjectIdentifier
        let eventLoop: any EventLoop
        let handler: ServerConnectionHandler

        func beginShutdown() { eventLoop.execute { handler.beginShutdown() } }
        func forceClose() { eventLoop.execute { handler.forceClose() } }
    }

    typealias Phase = ServerConnectionState.Phase

    // The state below is not private because the calls' half lives in `+Calls.swift`; it belongs
    // to the event loop, and nothing outside this handler and its extension touches it.

    let configuration: ServerConfiguration
    let router: Router
    let placement: HandlerPlacement
    private let registry: ConnectionRegistry
    var logger: Logger
    var local: ConnectionSettings { configuration.settings }

    var context: ChannelHandlerContext?
    var state: ServerConnectionState
    var phase: Phase { state.phase }
    private var input: ByteBuffer?
    private var decoder: FrameDecoder
    var remote = ConnectionSettings.defaults
    let writer = ConnectionWriter()
    var connectionReceive: ReceiveWindow
    var streams: [UInt32: ServerStream] = [:]
    var closingStreams: [UInt32] = []
    var peer = "unknown"
    /// Request ids the server makes up are this prefix and the stream id.
    let requestIDPrefix = String(UInt64.random(in: 0...UInt64.max), radix: 36)

    private var handshakeTimer: Scheduled<Void>?
    private var readTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var framesDecoded = 0
    var taskExecutor: EventLoopTaskExecutor?
    /// Executors of unary methods whose handlers start on this loop, by method (see
    /// `HandlerPlacement`); at most one per served unary method.
    var unaryExecutors: [String: EventLoopTaskExecutor] = [:]
    private var pingBudget: TokenBucket
    var resetBudget: TokenBucket
    /// Frames that are legal but do no work (see `noWork(_:)`).
    private var noWorkBudget: TokenBucket

    /// Frames that do no work a client may send: this many in a burst, refilled at
    /// `noWorkFramesPerSecond`; one more is GOAWAY `enhanceYourCalm`. A well-behaved client sends
    /// such frames only when they cross the server's STATUS in flight.
    static let noWorkFrameBurst = 200
    static let noWorkFramesPerSecond = 100

    /// Called with each new handler when it joins its pipeline (tests hold it weakly to check
    /// that closed connections are released).
    private let onHandlerAdded: (@Sendable (AnyObject) -> Void)?

    init(
        configuration: ServerConfiguration, router: Router, placement: HandlerPlacement, registry: ConnectionRegistry,
        logger: Logger, onHandlerAdded: (@Sendable (AnyObject) -> Void)? = nil
    ) {
        self.onHandlerAdded = onHandlerAdded
        self.configuration = configuration
        self.router = router
        self.placement = placement
        self.registry = registry
        self.logger = logger
        self.state = ServerConnectionState(
            maxConcurrentCalls: Int(configuration.settings.maxConcurrentCalls),
            maxMetadataSize: Int(configuration.settings.maxMetadataSize),
            handshakeTimeout: configuration.handshakeTimeout, idleTimeout: configuration.idleTimeout)
        self.decoder = FrameDecoder(maxFrameSize: configuration.settings.maxFrameSize)
        self.connectionReceive = ReceiveWindow(initial: configuration.settings.initialConnectionWindow)
        let now = NIODeadline.now()
        self.pingBudget = TokenBucket(capacity: 10, refillPerSecond: 1, now: now)
        self.resetBudget = TokenBucket(capacity: 200, refillPerSecond: 100, now: now)
        self.noWorkBudget = TokenBucket(capacity: Self.noWorkFrameBurst, refillPerSecond: Self.noWorkFramesPerSecond, now: now)
    }

    // MARK: Actions

    /// Carries out what the state machine decided, in order. Only `countNoWork` can throw (the
    /// no-work budget is spent).
    private func run(_ actions: [ServerConnectionState.Action]) throws(ProtocolError) {
        for action in actions {
            switch action {
            case .writePreface: writer.writePreface()
            case .writeSettings: writer.write(.settings(local))
            case .armHandshakeTimer:
                handshakeTimer = context?.eventLoop.scheduleTask(in: configuration.handshakeTimeout) { [self] in
                    runSafely(state.onHandshakeTimeout())
                }
            case .acceptSettings: break  // done by the caller, which holds the frame
            case .cancelHandshakeTimer:
                handshakeTimer?.cancel()
                handshakeTimer = nil
            case .armIdleTimer: armIdleTimer()
            case .cancelIdleTimer:
                idleTimer?.cancel()
                idleTimer = nil
            case .startKeepalive: startKeepalive()
            case .writeGoAway(let goAway):
                if goAway.code != .noError {
                    logger.info("closing connection", metadata: ["code": "\(goAway.code)", "reason": "\(goAway.message)"])
                }
                writer.write(.goAway(goAway))
            case .endCalls(let error): endCalls(error)
            case .cancelReceivingCalls(let error):
                for stream in streams.values where stream.state.state == .receiving {
                    closeStream(stream, error: error, status: .cancelled)
                }
            case .dispatchFrame, .openCall: break  // done by the caller, which holds the frame
            case .refuse(let id, let code, let message):
                writer.write(.status(streamID: id, StatusPayload(code: code.rawValue, message: message)))
            case .countNoWork(let what): try noWork(what)
            case .flush: flushNow(force: true)
            case .scheduleFlush: scheduleFlush()
            case .close: close()
            }
        }
    }

    /// `run` for events that cannot spend the no-work budget (timers, shutdown): a budget error
    /// there still fails the connection.
    func runSafely(_ actions: [ServerConnectionState.Action]) {
        do {
            try run(actions)
        } catch {
            fail(error)
        }
    }

    /// A connection error: GOAWAY with the reason, then close.
    private func fail(_ error: ProtocolError) {
        runSafely(state.onConnectionError(error))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if configuration.runsHandlersOnEventLoop { taskExecutor = EventLoopTaskExecutor(context.eventLoop) }
        onHandlerAdded?(self)
    }

    /// The channel is gone: drop the context. The context holds this handler and this handler held
    /// the context, a cycle that kept every closed connection's handler, pipeline and buffers
    /// (about 6 KiB, more after a call) for the life of the process.
    func handlerRemoved(context: ChannelHandlerContext) {
        runSafely(state.onHandlerRemoved())
        registry.unregister(ObjectIdentifier(self))
        self.context = nil
        taskExecutor = nil
        unaryExecutors = [:]
        input = nil
        writer.discardBuffer()
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress?.description ?? "unknown"
        logger[metadataKey: "peer"] = "\(peer)"
        let handle = Handle(id: ObjectIdentifier(self), eventLoop: context.eventLoop, handler: self)
        let registered = registry.register(handle)
        runSafely(state.onChannelActive(registered: registered, maxConnections: registry.maxConnections))
        if registered { context.fireChannelActive() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        runSafely(state.onChannelInactive())
        registry.unregister(ObjectIdentifier(self))
        context.fireChannelInactive()
    }

    /// The client shut its sending side (TCP half-close). Calls already complete (END_STREAM
    /// received) run on and their answers are sent; calls still waiting for client frames can never
    /// complete and end with STATUS `cancelled`; once the last call has ended and its frames are
    /// written, the connection closes. See section 13 of docs/protocol.md.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        readTimer?.cancel()
        readTimer = nil
        input = nil
        runSafely(state.onInputClosed())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closed else { return }
        var bytes = unwrapInboundIn(data)
        writer.readHappened()
        InputAccumulator.append(&bytes, to: &input, allocator: context.channel.allocator)
        let framesBefore = framesDecoded
        do {
            try processInput()
        } catch {
            fail(error)
            return
        }
        guard phase != .closed else { return }
        if let input, input.readableBytes > 0 {
            // The timer measures how long the current partial frame has been incomplete: a frame
            // completed in this read means the partial one left over is new.
            if framesDecoded != framesBefore {
                readTimer?.cancel()
                readTimer = nil
            }
            if readTimer == nil {
                readTimer = context.eventLoop.scheduleTask(in: configuration.readTimeout) { [self] in
                    fail(ProtocolError(.readTimeout, "a frame stayed incomplete for \(configuration.readTimeout.seconds) s"))
                }
            }
        } else {
            readTimer?.cancel()
            readTimer = nil
            input = nil
        }
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
                case .invalid(let error): try run(state.onInvalidPreface(error))
                case .preface(let preface): try run(state.onPreface(version: preface.version))
                }
                continue
            }
            guard let frame = try decoder.next(from: &input!) else { return }
            framesDecoded &+= 1
            try handle(frame)
        }
    }

    private func handle(_ frame: Frame) throws(ProtocolError) {
        if case .settings(let settings) = frame {
            let actions = state.onFrame(.settings)
            if actions.contains(.acceptSettings) {
                remote = settings
                writer.accept(settings)
            }
            return try run(actions)
        }
        let actions = state.onFrame(.other)
        guard actions.contains(.dispatchFrame) else { return try run(actions) }
        switch frame {
        case .settings:
            return
        case .settingsAck:
            try noWork("SETTINGS with ACK (this protocol never acknowledges settings)")
        case .callStart(let id, let start):
            let metadataSize = start.metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
            let actions = state.onCallStart(id: id, metadataSize: metadataSize)
            if actions.contains(.openCall) { openStream(id, start) }
            try run(actions)
        case .message(let id, let flags, let bytes):
            try receiveMessage(id, flags, bytes)
        case .endStream(let id):
            guard let stream = try stream(id) else { return try noWork("END_STREAM for a closed stream") }
            switch stream.state.receiveEndStream() {
            case .accept: stream.inbound.finish(.success(()))
            case .ignore: try noWork("END_STREAM for a closed stream")
            case .protocolError(let why): throw ProtocolError(.protocolError, "stream \(id): \(why)")
            }
        case .cancel(let id, _):
            guard resetBudget.take(now: .now()) else {
                throw ProtocolError(.enhanceYourCalm, "too many cancelled calls in a short time")
            }
            guard let stream = try stream(id), !stream.state.isClosed else { return try noWork("CANCEL of a closed stream") }
            closeStream(stream, error: RPCError(.cancelled, "the client cancelled the call"), status: nil)
        case .status:
            throw ProtocolError(.protocolError, "a client may not send STATUS")
        case .ping(let ack, let data):
            if !ack, !pingBudget.take(now: .now()) {
                throw ProtocolError(.enhanceYourCalm, "too many pings: at most 10 in a burst, then 1 a second")
            }
            if !writer.receivePing(ack: ack, data: data) { try noWork("PING ACK when no ping was sent") }
        case .goAway(let goAway):
            if goAway.code != .noError, !state.clientSentGoAway {
                logger.info("client sent GOAWAY", metadata: ["code": "\(goAway.code)", "message": "\(goAway.message)"])
            }
            try run(state.onClientGoAway())
        case .windowUpdate(let id, let increment):
            if id == 0 {
                guard writer.scheduler.connectionWindow.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the connection window would exceed 2^31-1")
                }
            } else {
                // A stream whose STATUS is queued stays in `streams` until its last bytes are
                // written, and still needs credit for them; only a stream gone from it is done.
                guard let stream = try stream(id) else {
                    return try noWork("WINDOW_UPDATE for a closed stream")
                }
                guard stream.outbound.window.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the window of stream \(id) would exceed 2^31-1")
                }
                writer.scheduler.markReady(id, stream.outbound)
            }
        }
    }

    /// Counts a frame that is legal but does no work (one that may cross our STATUS or answer
    /// nothing); past the budget the connection ends with `enhanceYourCalm`. Bounds what a client
    /// can make the server parse for nothing (section 14 of docs/protocol.md). Nothing once the
    /// connection is closed.
    func noWork(_ what: String) throws(ProtocolError) {
        guard phase != .closed else { return }
        guard noWorkBudget.take(now: .now()) else {
            throw ProtocolError(
                .enhanceYourCalm,
                "too many frames that do no work (last: \(what)): at most \(Self.noWorkFrameBurst) in a burst, then \(Self.noWorkFramesPerSecond) a second")
        }
    }

    /// The open stream a frame names; nil for a stream already closed (its frames may have crossed
    /// our STATUS); a protocol error for one never opened.
    func stream(_ id: UInt32) throws(ProtocolError) -> ServerStream? {
        if let stream = streams[id] { return stream }
        try run(state.onFrameForUnknownStream(id: id))
        return nil
    }

    // MARK: Output

    func scheduleFlush() {
        guard let loop = context?.eventLoop else { return }
        writer.scheduleFlush(on: loop) { self.flushNow() }
    }

    /// Writes what the streams may send. `force`: also once the state machine closed (its GOAWAY
    /// is written by `close`, this only drains).
    private func flushNow(force: Bool = false) {
        writer.flushStarted()
        guard let context, force || phase != .closed else { return }
        let completed = writer.drain { streams[$0]?.outbound }
        if !closingStreams.isEmpty {
            closingStreams.removeAll { id in
                guard let stream = streams[id] else { return true }
                guard stream.outbound.items.isEmpty else { return false }
                streams[id] = nil
                return true
            }
        }
        writer.writeOut(to: context)
        for promise in completed { promise.succeed() }
        runSafely(state.onFlushed(streamsLeft: !streams.isEmpty))
    }

    // MARK: Timers

    private func armIdleTimer() {
        guard let context, idleTimer == nil else { return }
        idleTimer = context.eventLoop.scheduleTask(in: configuration.idleTimeout) { [self] in
            idleTimer = nil
            runSafely(state.onIdleTimeout())
        }
    }

    private func startKeepalive() {
        guard let loop = context?.eventLoop else { return }
        let timeout = configuration.keepaliveTimeout
        writer.startKeepalive(on: loop, interval: configuration.keepaliveInterval, timeout: timeout) { [unowned self] in
            flushNow()
        } onTimeout: { [unowned self] in
            fail(ProtocolError(.keepaliveTimeout, "no answer to a ping within \(timeout.seconds) s"))
        }
    }

    func cancelTimers() {
        handshakeTimer?.cancel()
        readTimer?.cancel()
        idleTimer?.cancel()
        writer.stopKeepalive()
        handshakeTimer = nil
        readTimer = nil
        idleTimer = nil
    }

    // MARK: Ending

    /// Graceful shutdown: GOAWAY, calls in flight run on, new ones are refused as retryable.
    func beginShutdown() {
        runSafely(state.onBeginShutdown())
    }

    /// The grace period is over: cancel what still runs and close.
    func forceClose() {
        runSafely(state.onForceClose())
    }

    /// Writes what is buffered (a GOAWAY), stops the timers and closes the channel.
    private func close() {
        guard let context else { return }
        writer.writeOut(to: context)
        cancelTimers()
        context.close(promise: nil)
    }
}
