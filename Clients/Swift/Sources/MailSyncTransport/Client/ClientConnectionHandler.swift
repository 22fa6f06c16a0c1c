import Logging
import MailSyncRPC
import MailSyncWire
import NIOCore

/// One client connection on the event loop: reads frames, runs the calls' streams, and carries out
/// what `ClientConnectionState` decides (handshake, draining after GOAWAY, close) and what flow
/// control allows. Output batching and keepalive are the shared `ConnectionWriter`'s. Event-loop
/// bound; callers reach it through `eventLoop.execute`.
///
/// Calls beyond the server's `maxConcurrentCalls` wait, in order, for a free slot. After a GOAWAY
/// the connection takes no new calls; calls the server did not process fail with `unavailable`
/// (safe to retry), the others run to completion.
final class ClientConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    typealias Phase = ClientConnectionState.Phase

    // The state below is not private because the calls' half lives in `+Calls.swift`; it belongs
    // to the event loop, and nothing outside this handler and its extension touches it.

    private let configuration: ClientConfiguration
    private let logger: Logger
    private var local: ConnectionSettings { configuration.settings }
    /// Completes when the server's SETTINGS arrive; fails if the connection ends first.
    let ready: EventLoopPromise<Void>
    /// Called once when the connection stops taking new calls (GOAWAY or closed).
    var onUnusable: (@Sendable () -> Void)?

    var context: ChannelHandlerContext?
    var state = ClientConnectionState()
    var phase: Phase { state.phase }
    private(set) var remote = ConnectionSettings.defaults
    private var input: ByteBuffer?
    private var decoder: FrameDecoder
    let writer = ConnectionWriter()
    private var connectionReceive: ReceiveWindow
    var streams: [UInt32: ClientStream] = [:]
    var waiting = CircularBuffer<ClientStream>()
    var nextStreamID: UInt32 = 1

    init(configuration: ClientConfiguration, logger: Logger, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.logger = logger
        self.ready = eventLoop.makePromise()
        self.decoder = FrameDecoder(maxFrameSize: configuration.settings.maxFrameSize)
        self.connectionReceive = ReceiveWindow(initial: configuration.settings.initialConnectionWindow)
    }

    var eventLoop: (any EventLoop)? { context?.eventLoop }

    /// What this client announced (immutable).
    var configurationSettings: ConnectionSettings { configuration.settings }
    /// The server's settings; fixed once the connection is ready, which is before any stream is made.
    var remoteSettingsSnapshot: ConnectionSettings { remote }

    /// Whether new calls may start here.
    var isUsable: Bool { phase == .ready }

    // MARK: Actions

    /// Carries out what the state machine decided, in order.
    func run(_ actions: [ClientConnectionState.Action]) {
        for action in actions {
            switch action {
            case .writePreface: writer.writePreface()
            case .writeSettings: writer.write(.settings(local))
            case .writeGoAway(let goAway): writer.write(.goAway(goAway))
            case .flush: flushNow(force: true)
            case .acceptSettings, .dispatchFrame, .openCall, .failCall: break  // done by the caller, which holds the frame or call
            case .startKeepalive: startKeepalive()
            case .stopKeepalive: writer.stopKeepalive()
            case .succeedReady: ready.succeed()
            case .failReady(let error): ready.fail(error)
            case .notifyUnusable: onUnusable?()
            case .logGoAway(let goAway):
                logger.info("server sent GOAWAY", metadata: ["code": "\(goAway.code)", "message": "\(goAway.message)"])
            case .failCalls(let lastStreamID, let error):
                for stream in streams.values where stream.id > lastStreamID {
                    close(stream, .failure(error), discardBuffered: true)
                }
                while let stream = waiting.popFirst() { close(stream, .failure(error), discardBuffered: true) }
            case .endCalls(let error):
                for stream in Array(streams.values) + Array(waiting) {
                    close(stream, .failure(error), discardBuffered: true)
                }
                streams.removeAll()
                waiting.removeAll()
            case .closeIfDrained: closeIfDrained()
            case .closeChannel: context?.close(promise: nil)
            }
        }
    }

    private func fail(_ error: ProtocolError) {
        run(state.onConnectionError(error))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { run(state.onChannelActive()) }
    }

    /// The channel is gone (also when it never became active, as after a failed connect): fails
    /// what is still waiting, then drops the context, which holds this handler: keeping it would
    /// keep both after the close.
    func handlerRemoved(context: ChannelHandlerContext) {
        run(state.onChannelClosed())
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        run(state.onChannelActive())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(state.onChannelClosed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run(state.onChannelError("\(error)"))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closed else { return }
        var bytes = unwrapInboundIn(data)
        writer.readHappened()
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
                case .invalid(let error): run(state.onInvalidPreface(error))
                case .preface(let preface): run(state.onPreface(version: preface.version))
                }
                continue
            }
            guard let frame = try decoder.next(from: &input!) else { return }
            try handle(frame)
        }
    }

    private func handle(_ frame: Frame) throws(ProtocolError) {
        let kind: ClientConnectionState.FrameKind
        switch frame {
        case .settings: kind = .settings
        case .goAway(let goAway): kind = .goAway(goAway)
        default: kind = .other
        }
        let actions = state.onFrame(kind)
        if case .settings(let settings) = frame, actions.contains(.acceptSettings) {
            remote = settings
            writer.accept(settings)
        }
        guard actions.contains(.dispatchFrame) else { return run(actions) }
        switch frame {
        case .message(let id, let flags, let bytes):
            let size = bytes.readableBytes
            guard connectionReceive.receive(size) else {
                throw ProtocolError(.flowControlError, "the server sent more than the connection window allowed")
            }
            if let increment = connectionReceive.consume(size) {
                writer.write(.windowUpdate(streamID: 0, increment: increment))
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
        case .ping(let ack, let data):
            _ = writer.receivePing(ack: ack, data: data)
        case .windowUpdate(let id, let increment):
            if id == 0 {
                guard writer.scheduler.connectionWindow.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the connection window would exceed 2^31-1")
                }
            } else if let stream = streams[id] {
                guard stream.outbound.window.grant(increment) else {
                    throw ProtocolError(.flowControlError, "the window of stream \(id) would exceed 2^31-1")
                }
                writer.scheduler.markReady(id, stream.outbound)
            }
        case .settingsAck, .settings, .goAway:
            return
        case .callStart, .endStream, .cancel:
            throw ProtocolError(.protocolError, "a server may not send \(frame)")
        }
    }

    // MARK: Output

    func scheduleFlush() {
        guard let loop = context?.eventLoop else { return }
        writer.scheduleFlush(on: loop) { self.flushNow() }
    }

    /// Writes what the calls may send. `force`: also once the state machine closed (the GOAWAY
    /// of a failing connection goes out before its channel closes).
    private func flushNow(force: Bool = false) {
        writer.flushStarted()
        guard let context, force || phase != .closed else { return }
        let completed = writer.drain { streams[$0]?.outbound }
        writer.writeOut(to: context)
        for promise in completed { promise.succeed() }
    }

    private func startKeepalive() {
        guard let loop = context?.eventLoop else { return }
        let timeout = configuration.keepaliveTimeout
        writer.startKeepalive(on: loop, interval: configuration.keepaliveInterval, timeout: timeout) { [unowned self] in
            flushNow()
        } onTimeout: { [unowned self] in
            fail(ProtocolError(.keepaliveTimeout, "the server did not answer a ping within \(timeout.seconds) s"))
        }
    }

    // MARK: Ending

    /// Closes the connection gracefully: no new calls; calls in flight finish first.
    func closeGracefully() {
        run(state.onCloseGracefully())
    }
}
