import Logging
import MailSyncRPC
import MailSyncWire
import NIOCore

/// One server connection: handshake, frame dispatch, stream multiplexing, flow control, timeouts
/// and shutdown. Event-loop bound; handler tasks reach it only through `eventLoop.execute`.
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

    enum Phase: Equatable {
        case awaitingPreface
        case awaitingSettings
        case active
        /// GOAWAY sent: calls up to the id run on, new ones are refused.
        case draining(lastStreamID: UInt32)
        case closed
    }

    private let configuration: ServerConfiguration
    private let router: Router
    private let registry: ConnectionRegistry
    private var logger: Logger
    private var local: ConnectionSettings { configuration.settings }

    private var context: ChannelHandlerContext?
    private(set) var phase = Phase.awaitingPreface
    private var input: ByteBuffer?
    private var decoder: FrameDecoder
    private var remote = ConnectionSettings.defaults
    private var scheduler: OutboundScheduler
    private var connectionReceive: ReceiveWindow
    private var streams: [UInt32: ServerStream] = [:]
    private var closingStreams: [UInt32] = []
    private var activeCalls = 0
    private var highestStreamID: UInt32 = 0
    private var out = ByteBuffer()
    private var flushScheduled = false
    private var peer = "unknown"
    /// Request ids the server makes up are this prefix and the stream id.
    private let requestIDPrefix = String(UInt64.random(in: 0...UInt64.max), radix: 36)

    private var handshakeTimer: Scheduled<Void>?
    private var readTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private let keepalive = Keepalive()
    private var framesDecoded = 0
    private var taskExecutor: EventLoopTaskExecutor?
    private var pingBudget: TokenBucket
    private var resetBudget: TokenBucket
    /// Frames that are legal but do no work (see `noWork(_:)`).
    private var noWorkBudget: TokenBucket
    private var clientSentGoAway = false

    /// Frames that do no work a client may send: this many in a burst, refilled at
    /// `noWorkFramesPerSecond`; one more is GOAWAY `enhanceYourCalm`. A well-behaved client sends
    /// such frames only when they cross the server's STATUS in flight.
    static let noWorkFrameBurst = 200
    static let noWorkFramesPerSecond = 100

    /// Called with each new handler when it joins its pipeline (tests hold it weakly to check
    /// that closed connections are released).
    private let onHandlerAdded: (@Sendable (AnyObject) -> Void)?

    init(
        configuration: ServerConfiguration, router: Router, registry: ConnectionRegistry, logger: Logger,
        onHandlerAdded: (@Sendable (AnyObject) -> Void)? = nil
    ) {
        self.onHandlerAdded = onHandlerAdded
        self.configuration = configuration
        self.router = router
        self.registry = registry
        self.logger = logger
        self.decoder = FrameDecoder(maxFrameSize: configuration.settings.maxFrameSize)
        self.scheduler = OutboundScheduler(
            connectionWindow: ConnectionSettings.defaults.initialConnectionWindow,
            maxFrameSize: ConnectionSettings.defaults.maxFrameSize)
        self.connectionReceive = ReceiveWindow(initial: configuration.settings.initialConnectionWindow)
        let now = NIODeadline.now()
        self.pingBudget = TokenBucket(capacity: 10, refillPerSecond: 1, now: now)
        self.resetBudget = TokenBucket(capacity: 200, refillPerSecond: 100, now: now)
        self.noWorkBudget = TokenBucket(capacity: Self.noWorkFrameBurst, refillPerSecond: Self.noWorkFramesPerSecond, now: now)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if configuration.runsHandlersOnEventLoop { taskExecutor = EventLoopTaskExecutor(context.eventLoop) }
        out = context.channel.allocator.buffer(capacity: 4096)
        onHandlerAdded?(self)
    }

    /// The channel is gone: drop the context. The context holds this handler and this handler held
    /// the context, a cycle that kept every closed connection's handler, pipeline and buffers
    /// (about 6 KiB, more after a call) for the life of the process.
    func handlerRemoved(context: ChannelHandlerContext) {
        if phase != .closed {
            teardown(RPCError(.cancelled, "the client's connection closed"))
            phase = .closed
        }
        registry.unregister(ObjectIdentifier(self))
        self.context = nil
        taskExecutor = nil
        input = nil
        out = ByteBuffer()
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = context.channel.remoteAddress?.description ?? "unknown"
        logger[metadataKey: "peer"] = "\(peer)"
        let handle = Handle(id: ObjectIdentifier(self), eventLoop: context.eventLoop, handler: self)
        guard registry.register(handle) else {
            Preface().write(to: &out)
            fail(ProtocolError(.tooManyConnections, "the server is at its limit of \(registry.maxConnections) connections or shutting down; retry later"))
            return
        }
        handshakeTimer = context.eventLoop.scheduleTask(in: configuration.handshakeTimeout) { [self] in
            if phase == .awaitingPreface { Preface().write(to: &out) }
            fail(ProtocolError(.handshakeTimeout, "no preface and SETTINGS within \(configuration.handshakeTimeout.seconds) s"))
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown(RPCError(.cancelled, "the client's connection closed"))
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
        switch phase {
        case .awaitingPreface, .awaitingSettings:
            close()
        case .active, .draining:
            if case .active = phase { phase = .draining(lastStreamID: highestStreamID) }
            let cut = RPCError(.cancelled, "the client shut its sending side (TCP half-close) before ending the call")
            for stream in streams.values where stream.state.state == .receiving {
                closeStream(stream, error: cut, status: .cancelled)
            }
            flushNow()
        case .closed:
            return
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closed else { return }
        var bytes = unwrapInboundIn(data)
        keepalive.readHappened()
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
                case .invalid(let error):
                    Preface().write(to: &out)
                    throw error
                case .preface(let preface):
                    Preface().write(to: &out)
                    guard preface.version == Preface.currentVersion else {
                        throw ProtocolError(
                            .unsupportedVersion,
                            "this server speaks protocol version \(Preface.currentVersion); the client offered version \(preface.version)")
                    }
                    FrameEncoder.write(.settings(local), to: &out)
                    phase = .awaitingSettings
                }
                continue
            }
            guard let frame = try decoder.next(from: &input!) else { return }
            framesDecoded &+= 1
            try handle(frame)
        }
    }

    private func handle(_ frame: Frame) throws(ProtocolError) {
        if phase == .awaitingSettings {
            guard case .settings(let settings) = frame else {
                throw ProtocolError(.protocolError, "the first frame after the preface must be SETTINGS")
            }
            remote = settings
            scheduler = OutboundScheduler(connectionWindow: settings.initialConnectionWindow, maxFrameSize: settings.maxFrameSize)
            phase = .active
            handshakeTimer?.cancel()
            handshakeTimer = nil
            armIdleTimer()
            startKeepalive()
            return
        }
        switch frame {
        case .settings:
            throw ProtocolError(.protocolError, "SETTINGS may be sent only once per connection")
        case .settingsAck:
            try noWork("SETTINGS with ACK (this protocol never acknowledges settings)")
        case .callStart(let id, let start):
            try openStream(id, start)
        case .message(let id, let flags, let bytes):
            try receiveMessage(id, flags, bytes)
        case .endStream(let id):
            guard let stream = try stream(id, for: frame) else { return try noWork("END_STREAM for a closed stream") }
            switch stream.state.receiveEndStream() {
            case .accept: stream.inbound.finish(.success(()))
            case .ignore: try noWork("END_STREAM for a closed stream")
            case .protocolError(let why): throw ProtocolError(.protocolError, "stream \(id): \(why)")
            }
        case .cancel(let id, _):
            guard resetBudget.take(now: .now()) else {
                throw ProtocolError(.enhanceYourCalm, "too many cancelled calls in a short time")
            }
            guard let stream = try stream(id, for: frame), !stream.state.isClosed else { return try noWork("CANCEL of a closed stream") }
            closeStream(stream, error: RPCError(.cancelled, "the client cancelled the call"), status: nil)
        case .status:
            throw ProtocolError(.protocolError, "a client may not send STATUS")
        case .ping(let ack, let data):
            if ack {
                guard keepalive.awaitingAnswer else { return try noWork("PING ACK when no ping was sent") }
                keepalive.pingAnswered()
            } else {
                guard pingBudget.take(now: .now()) else {
                    throw ProtocolError(.enhanceYourCalm, "too many pings: at most 10 in a burst, then 1 a second")
                }
                FrameEncoder.write(.ping(ack: true, data: data), to: &out)
            }
        case .goAway(let goAway):
            if clientSentGoAway { return try noWork("a repeated GOAWAY") }
            clientSentGoAway = true
            if goAway.code != .noError {
                logger.info("client sent GOAWAY", metadata: ["code": "\(goAway.code)", "message": "\(goAway.message)"])
            }
            if activeCalls == 0 { close() }
        case .windowUpdate(let id, let increment):
            if id == 0 {
                guard scheduler.connectionWindow.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the connection window would exceed 2^31-1")
                }
            } else {
                // A stream whose STATUS is queued stays in `streams` until its last bytes are
                // written, and still needs credit for them; only a stream gone from it is done.
                guard let stream = try stream(id, for: frame) else {
                    return try noWork("WINDOW_UPDATE for a closed stream")
                }
                guard stream.outbound.window.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the window of stream \(id) would exceed 2^31-1")
                }
                scheduler.markReady(id, stream.outbound)
            }
        }
    }

    /// Counts a frame that is legal but does no work (one that may cross our STATUS or answer
    /// nothing); past the budget the connection ends with `enhanceYourCalm`. Bounds what a client
    /// can make the server parse for nothing (section 14 of docs/protocol.md).
    private func noWork(_ what: String) throws(ProtocolError) {
        guard noWorkBudget.take(now: .now()) else {
            throw ProtocolError(
                .enhanceYourCalm,
                "too many frames that do no work (last: \(what)): at most \(Self.noWorkFrameBurst) in a burst, then \(Self.noWorkFramesPerSecond) a second")
        }
    }

    /// The open stream a frame names; nil for a stream already closed (its frames may have crossed
    /// our STATUS); a protocol error for one never opened.
    private func stream(_ id: UInt32, for frame: Frame) throws(ProtocolError) -> ServerStream? {
        if let stream = streams[id] { return stream }
        guard id <= highestStreamID else {
            throw ProtocolError(.protocolError, "a frame for stream \(id), which was never opened")
        }
        return nil
    }

    private func openStream(_ id: UInt32, _ start: CallStart) throws(ProtocolError) {
        guard id % 2 == 1 else {
            throw ProtocolError(.protocolError, "stream \(id) is even: a client opens odd-numbered streams")
        }
        guard id > highestStreamID else {
            throw ProtocolError(.protocolError, "stream \(id) is not above the last one opened (\(highestStreamID)): stream ids are never reused")
        }
        highestStreamID = id
        if clientSentGoAway {
            throw ProtocolError(.protocolError, "CALL_START on stream \(id) after the client's own GOAWAY: a client that sent GOAWAY opens no new calls")
        }
        if case .draining = phase {
            refuse(id, .unavailable, "the server is shutting down and did not process this call; retry on a new connection")
            return
        }
        guard activeCalls < Int(local.maxConcurrentCalls) else {
            refuse(id, .resourceExhausted, "this connection already has \(local.maxConcurrentCalls) calls in flight, the limit; wait for one to finish")
            return
        }
        let metadataSize = start.metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard metadataSize <= Int(local.maxMetadataSize) else {
            refuse(id, .resourceExhausted, "the call's metadata takes \(metadataSize) bytes, over the limit of \(local.maxMetadataSize)")
            return
        }
        guard let context else { return }
        let stream = ServerStream(
            id: id, eventLoop: context.eventLoop, connection: self, local: local, remote: remote,
            compressionThreshold: configuration.compressionThreshold,
            holdsSingleResponse: router.descriptor(for: start.method).map { $0.kind == .unary || $0.kind == .clientStreaming } ?? false)
        streams[id] = stream
        activeCalls += 1
        idleTimer?.cancel()
        idleTimer = nil

        var collected = Metadata()
        for (key, value) in start.metadata { collected.add(key, value) }
        let metadata = collected
        let requestID = RequestID.resolve(metadata) { "\(requestIDPrefix)-\(id)" }
        stream.requestID = requestID
        let deadline: ContinuousClock.Instant?
        if start.timeoutMicroseconds > 0 {
            let micros = Int64(clamping: start.timeoutMicroseconds)
            deadline = ContinuousClock.now + .microseconds(micros)
            stream.deadlineTimer = context.eventLoop.scheduleTask(in: .microseconds(micros)) { [self] in
                closeStream(stream, error: RPCError(.deadlineExceeded, "the call's deadline of \(Double(micros) / 1e6) s passed"), status: .deadlineExceeded)
            }
        } else {
            deadline = nil
        }
        let router = self.router
        let method = start.method
        let peer = self.peer
        // The router adds method and request id to the logger it hands the handler.
        let loop = context.eventLoop
        let finalLogger = logger
        let body: @Sendable () async -> Void = {
            let status = await router.handle(
                method: method, stream: stream, metadata: metadata, deadline: deadline,
                requestID: requestID, peer: peer, logger: finalLogger)
            if loop.inEventLoop {
                self.finish(stream, status)
            } else {
                loop.execute { self.finish(stream, status) }
            }
        }
        if let taskExecutor {
            stream.task = Task(executorPreference: taskExecutor, operation: body)
        } else {
            stream.task = Task(operation: body)
        }
    }

    private func receiveMessage(_ id: UInt32, _ flags: FrameFlags, _ bytes: ByteBuffer) throws(ProtocolError) {
        let size = bytes.readableBytes
        guard connectionReceive.receive(size) else {
            throw ProtocolError(.flowControlError, "the client sent more than the connection window allowed")
        }
        // The connection window is credited on receipt; each stream's own window bounds what sits
        // unread.
        if let increment = connectionReceive.consume(size) {
            FrameEncoder.write(.windowUpdate(streamID: 0, increment: increment), to: &out)
        }
        if size == 0, flags.contains(.more), !resetBudget.take(now: .now()) {
            throw ProtocolError(.enhanceYourCalm, "too many empty MESSAGE frames")
        }
        guard let stream = try stream(id, for: .message(streamID: id, flags: flags, bytes: bytes)) else {
            return try noWork("MESSAGE for a closed stream")
        }
        switch stream.state.receiveMessage() {
        case .accept: break
        case .ignore: return try noWork("MESSAGE for a closed stream")
        case .protocolError(let why): throw ProtocolError(.protocolError, "stream \(id): \(why)")
        }
        guard stream.receiveWindow.receive(size) else {
            throw ProtocolError(.flowControlError, "the client sent more than stream \(id)'s window allowed")
        }
        switch stream.assembler.append(flags: flags, bytes: bytes, maxMessageSize: Int(local.maxMessageSize)) {
        case .success(let item?):
            guard stream.inbound.push(item) else {
                let error = RPCError(.resourceExhausted, "more than \(InboundQueue.maxUnreadMessages) messages sent without being read")
                closeStream(stream, error: error, status: error.code)
                return
            }
        case .success(nil): creditPartial(size, on: stream, id: id)
        case .failure(.stream(let error)): closeStream(stream, error: error, status: error.code)
        case .failure(.connection(let error)): throw error
        }
    }

    // MARK: Streams

    /// A message's bytes were read by the handler: return the stream's credit when due.
    func consumed(_ bytes: Int, on id: UInt32) {
        guard let stream = streams[id], !stream.state.isClosed,
            let increment = stream.receiveWindow.consume(bytes)
        else { return }
        FrameEncoder.write(.windowUpdate(streamID: id, increment: increment), to: &out)
        scheduleFlush()
    }

    func enqueue(_ item: StreamOutbound.Item, on stream: ServerStream) {
        guard streams[stream.id] != nil, !stream.state.isClosed else {
            if case .message(_, _, let promise?) = item { promise.fail(RPCError(.cancelled, "the call has ended")) }
            return
        }
        scheduler.enqueue(item, streamID: stream.id, on: stream.outbound)
        scheduleFlush()
    }

    /// The handler returned: queue its held response (unary calls) and its status.
    private func finish(_ stream: ServerStream, _ status: Status) {
        // A response over the client's maxMessageSize was not sent: the call failed, whatever
        // the handler made of the error.
        let status = stream.takeSendFailure().map(Status.init) ?? status
        if let (bytes, compressed) = stream.takeHeldResponse(), !stream.state.isClosed {
            scheduler.enqueue(.message(bytes, compressed: compressed, promise: nil), streamID: stream.id, on: stream.outbound)
        }
        guard stream.state.close() else { return }
        stream.markClosed(RPCError(.cancelled, "the call has ended"))
        stream.deadlineTimer?.cancel()
        stream.inbound.finish(.failure(RPCError(.cancelled, "the call has ended")))
        scheduler.enqueue(
            .frame(.status(streamID: stream.id, statusPayload(status, requestID: stream.requestID))), streamID: stream.id, on: stream.outbound)
        callEnded(stream)
        scheduleFlush()
    }

    /// Ends a call early (cancel, deadline, stream error), optionally telling the client.
    private func closeStream(_ stream: ServerStream, error: RPCError, status: StatusCode?) {
        guard stream.state.close() else { return }
        stream.markClosed(error)
        stream.deadlineTimer?.cancel()
        stream.outbound.discard(error)
        stream.inbound.finish(.failure(error))
        stream.task?.cancel()
        if let status {
            scheduler.enqueue(
                .frame(.status(streamID: stream.id, statusPayload(Status(code: status, message: error.message), requestID: stream.requestID))),
                streamID: stream.id, on: stream.outbound)
        }
        callEnded(stream)
        scheduleFlush()
    }

    private func refuse(_ id: UInt32, _ code: StatusCode, _ message: String) {
        FrameEncoder.write(.status(streamID: id, StatusPayload(code: code.rawValue, message: message)), to: &out)
    }

    private func callEnded(_ stream: ServerStream) {
        activeCalls -= 1
        closingStreams.append(stream.id)
        if activeCalls == 0 {
            if case .draining = phase {
                scheduleFlush()
            } else {
                armIdleTimer()
            }
        }
    }

    /// The STATUS of a call that ran, within what the client announced.
    private func statusPayload(_ status: Status, requestID: String?) -> StatusPayload {
        Self.payload(status, requestID: requestID, peerMaxMetadataSize: Int(remote.maxMetadataSize), peerMaxFrameSize: Int(remote.maxFrameSize))
    }

    /// The STATUS of a call that ran: its request id, when known, goes back as trailing metadata
    /// (`request-id`), so a client that let the server make one up can still quote it.
    ///
    /// The trailer is optional: it is left out when its bytes (key + value) exceed the client's
    /// announced `maxMetadataSize` (a client that announced 0 gets none). A STATUS must fit one
    /// frame of the client's `maxFrameSize`: a message or details that would not fit are cut
    /// (the message at a character boundary, marked with "…"); details that cannot fit are dropped.
    static func payload(
        _ status: Status, requestID: String? = nil, peerMaxMetadataSize: Int = Int.max, peerMaxFrameSize: Int = Int.max
    ) -> StatusPayload {
        var metadata: [(key: String, value: String)] = []
        var used = 0
        if let requestID, Metadata.requestIDKey.utf8.count + requestID.utf8.count <= peerMaxMetadataSize {
            metadata = [(key: Metadata.requestIDKey, value: requestID)]
            used = Metadata.requestIDKey.utf8.count + requestID.utf8.count
        }
        // The handler's trailers (a retry hint), each only while the peer's limit allows.
        for (key, value) in status.trailers where key != Metadata.requestIDKey {
            let size = key.utf8.count + value.utf8.count
            guard used + size <= peerMaxMetadataSize else { continue }
            metadata.append((key: key, value: value))
            used += size
        }
        // code (2) + message length (4) + details length (4) + pair count (2) + each pair's framing.
        let fixed = 12 + metadata.reduce(0) { $0 + 1 + $1.key.utf8.count + 2 + $1.value.utf8.count }
        var message = status.message
        var details = status.details
        if fixed + message.utf8.count + details.count > peerMaxFrameSize {
            // Details are kept only when they leave room for a useful message.
            if fixed + details.count + 256 > peerMaxFrameSize { details = [] }
            let room = max(0, peerMaxFrameSize - fixed - details.count - 3)  // "…" is 3 bytes
            if message.utf8.count > room {
                var cut = ""
                for character in message {
                    guard cut.utf8.count + character.utf8.count <= room else { break }
                    cut.append(character)
                }
                message = cut + "…"
            }
        }
        return StatusPayload(code: status.code.rawValue, message: message, details: details, metadata: metadata)
    }

    /// Credits a fragment of a message that is not complete yet, when the reader is waiting for
    /// it (see `MessageAssembler`).
    private func creditPartial(_ size: Int, on stream: ServerStream, id: UInt32) {
        guard stream.inbound.isDrained else { return }
        stream.assembler.credited(size)
        if let increment = stream.receiveWindow.consume(size) {
            FrameEncoder.write(.windowUpdate(streamID: id, increment: increment), to: &out)
        }
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
        if !closingStreams.isEmpty {
            closingStreams.removeAll { id in
                guard let stream = streams[id] else { return true }
                guard stream.outbound.items.isEmpty else { return false }
                streams[id] = nil
                return true
            }
        }
        if out.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            out = context.channel.allocator.buffer(capacity: 4096)
        }
        for promise in completed { promise.succeed() }
        if case .draining = phase, activeCalls == 0, streams.isEmpty {
            close()
        }
    }

    // MARK: Timers

    private func armIdleTimer() {
        guard let context, idleTimer == nil else { return }
        idleTimer = context.eventLoop.scheduleTask(in: configuration.idleTimeout) { [self] in
            idleTimer = nil
            guard activeCalls == 0 else { return }
            FrameEncoder.write(
                .goAway(GoAway(lastStreamID: highestStreamID, code: .noError, message: "no calls for \(configuration.idleTimeout.seconds) s")),
                to: &out)
            close()
        }
    }

    private func startKeepalive() {
        guard let loop = context?.eventLoop else { return }
        let timeout = configuration.keepaliveTimeout
        keepalive.start(on: loop, interval: configuration.keepaliveInterval, timeout: timeout) { [unowned self] in
            FrameEncoder.write(.ping(ack: false, data: UInt64.random(in: 0...UInt64.max)), to: &out)
            flushNow()
        } onTimeout: { [unowned self] in
            fail(ProtocolError(.keepaliveTimeout, "no answer to a ping within \(timeout.seconds) s"))
        }
    }

    // MARK: Ending

    /// Graceful shutdown: GOAWAY, calls in flight run on, new ones are refused as retryable.
    func beginShutdown() {
        switch phase {
        case .active:
            phase = .draining(lastStreamID: highestStreamID)
            FrameEncoder.write(
                .goAway(GoAway(lastStreamID: highestStreamID, code: .noError, message: "the server is shutting down")),
                to: &out)
            flushNow()
        case .awaitingPreface, .awaitingSettings:
            close()
        case .draining, .closed:
            return
        }
    }

    /// The grace period is over: cancel what still runs and close.
    func forceClose() {
        guard phase != .closed else { return }
        teardown(RPCError(.unavailable, "the server shut down before the call finished"))
        close()
    }

    /// A connection error: GOAWAY with the reason, then close.
    private func fail(_ error: any Error) {
        guard phase != .closed else { return }
        let protocolError = (error as? ProtocolError) ?? ProtocolError(.internalError, "\(error)")
        logger.info("closing connection", metadata: ["code": "\(protocolError.code)", "reason": "\(protocolError.message)"])
        FrameEncoder.write(
            .goAway(GoAway(lastStreamID: highestStreamID, code: protocolError.code, message: protocolError.message)),
            to: &out)
        teardown(RPCError(.unavailable, "the connection failed: \(protocolError.message)"))
        close()
    }

    private func close() {
        guard phase != .closed, let context else { return }
        if out.readableBytes > 0 {
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            out.clear()
        }
        phase = .closed
        cancelTimers()
        context.close(promise: nil)
    }

    private func teardown(_ error: RPCError) {
        for stream in streams.values where !stream.state.isClosed {
            _ = stream.state.close()
            stream.markClosed(error)
            stream.deadlineTimer?.cancel()
            stream.outbound.discard(error)
            stream.inbound.finish(.failure(error))
            stream.task?.cancel()
        }
        streams.removeAll()
        activeCalls = 0
        cancelTimers()
    }

    private func cancelTimers() {
        handshakeTimer?.cancel()
        readTimer?.cancel()
        idleTimer?.cancel()
        keepalive.stop()
        handshakeTimer = nil
        readTimer = nil
        idleTimer = nil
    }
}

extension TimeAmount {
    var seconds: Double { Double(nanoseconds) / 1e9 }
}
