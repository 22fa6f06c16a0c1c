import MailSyncRPC
import MailSyncWire
import NIOCore

/// The calls of a server connection: opening one and starting its handler task, its MESSAGE frames
/// and flow-control credit, its output, and its end (STATUS from the handler, or early: cancel,
/// deadline, stream error, connection gone). Event-loop bound, like the handler.
extension ServerConnectionHandler {
    /// Opens the call the state machine admitted and starts its handler task: on the event loop
    /// for unary calls (`HandlerPlacement`), on the cooperative pool otherwise.
    func openStream(_ id: UInt32, _ start: CallStart) {
        guard let context else { return }
        let descriptor = router.descriptor(for: start.method)
        let stream = ServerStream(
            id: id, eventLoop: context.eventLoop, connection: self, local: local, remote: remote,
            compressionThreshold: configuration.compressionThreshold,
            holdsSingleResponse: descriptor.map { $0.kind == .unary || $0.kind == .clientStreaming } ?? false)
        streams[id] = stream

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
        } else if let executor = unaryExecutor(for: descriptor, on: loop) {
            stream.task = Task(executorPreference: executor, operation: body)
        } else {
            stream.task = Task(operation: body)
        }
    }

    /// This connection's executor for a unary method whose handlers start on the event loop
    /// (`HandlerPlacement`); nil when its calls run on the pool. Kept per method, so a call costs a
    /// dictionary look-up, not an allocation or a lock.
    private func unaryExecutor(for descriptor: MethodDescriptor?, on loop: any EventLoop) -> EventLoopTaskExecutor? {
        guard let descriptor, descriptor.kind == .unary else { return nil }
        let executor: EventLoopTaskExecutor
        if let known = unaryExecutors[descriptor.fullName] {
            executor = known
        } else {
            guard let watch = placement.watch(for: descriptor) else { return nil }
            executor = EventLoopTaskExecutor(loop, watch: watch)
            unaryExecutors[descriptor.fullName] = executor
        }
        return executor.watch?.isHeavy == true ? nil : executor
    }

    func receiveMessage(_ id: UInt32, _ flags: FrameFlags, _ bytes: ByteBuffer) throws(ProtocolError) {
        let size = bytes.readableBytes
        guard connectionReceive.receive(size) else {
            throw ProtocolError(.flowControlError, "the client sent more than the connection window allowed")
        }
        // The connection window is credited on receipt; each stream's own window bounds what sits
        // unread.
        if let increment = connectionReceive.consume(size) {
            writer.write(.windowUpdate(streamID: 0, increment: increment))
        }
        if size == 0, flags.contains(.more), !resetBudget.take(now: .now()) {
            throw ProtocolError(.enhanceYourCalm, "too many empty MESSAGE frames")
        }
        guard let stream = try stream(id) else {
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
        writer.write(.windowUpdate(streamID: id, increment: increment))
        scheduleFlush()
    }

    func enqueue(_ item: StreamOutbound.Item, on stream: ServerStream) {
        guard streams[stream.id] != nil, !stream.state.isClosed else {
            if case .message(_, _, let promise?) = item { promise.fail(RPCError(.cancelled, "the call has ended")) }
            return
        }
        writer.scheduler.enqueue(item, streamID: stream.id, on: stream.outbound)
        scheduleFlush()
    }

    /// The handler returned: queue its held response (unary calls) and its status.
    func finish(_ stream: ServerStream, _ status: Status) {
        // A response over the client's maxMessageSize was not sent: the call failed, whatever
        // the handler made of the error.
        let status = stream.takeSendFailure().map(Status.init) ?? status
        if let (bytes, compressed) = stream.takeHeldResponse(), !stream.state.isClosed {
            writer.scheduler.enqueue(.message(bytes, compressed: compressed, promise: nil), streamID: stream.id, on: stream.outbound)
        }
        guard stream.state.close() else { return }
        stream.markClosed(RPCError(.cancelled, "the call has ended"))
        stream.deadlineTimer?.cancel()
        stream.inbound.finish(.failure(RPCError(.cancelled, "the call has ended")))
        writer.scheduler.enqueue(
            .frame(.status(streamID: stream.id, statusPayload(status, requestID: stream.requestID))), streamID: stream.id, on: stream.outbound)
        callEnded(stream)
        scheduleFlush()
    }

    /// Ends a call early (cancel, deadline, stream error), optionally telling the client.
    func closeStream(_ stream: ServerStream, error: RPCError, status: StatusCode?) {
        guard stream.state.close() else { return }
        stream.markClosed(error)
        stream.deadlineTimer?.cancel()
        stream.outbound.discard(error)
        stream.inbound.finish(.failure(error))
        stream.task?.cancel()
        if let status {
            writer.scheduler.enqueue(
                .frame(.status(streamID: stream.id, statusPayload(Status(code: status, message: error.message), requestID: stream.requestID))),
                streamID: stream.id, on: stream.outbound)
        }
        callEnded(stream)
        scheduleFlush()
    }

    /// The call ended: its stream leaves `streams` once its last frames are written.
    func callEnded(_ stream: ServerStream) {
        closingStreams.append(stream.id)
        runSafely(state.onCallEnded())
    }

    /// Every call still open ends with `error`, without STATUS (the connection is going).
    func endCalls(_ error: RPCError) {
        for stream in streams.values where !stream.state.isClosed {
            _ = stream.state.close()
            stream.markClosed(error)
            stream.deadlineTimer?.cancel()
            stream.outbound.discard(error)
            stream.inbound.finish(.failure(error))
            stream.task?.cancel()
        }
        streams.removeAll()
        cancelTimers()
    }

    /// The STATUS of a call that ran, within what the client announced.
    func statusPayload(_ status: Status, requestID: String?) -> StatusPayload {
        Self.payload(status, requestID: requestID, peerMaxMetadataSize: Int(remote.maxMetadataSize), peerMaxFrameSize: Int(remote.maxFrameSize))
    }

    /// Credits a fragment of a message that is not complete yet, when the reader is waiting for
    /// it (see `MessageAssembler`).
    func creditPartial(_ size: Int, on stream: ServerStream, id: UInt32) {
        guard stream.inbound.isDrained else { return }
        stream.assembler.credited(size)
        if let increment = stream.receiveWindow.consume(size) {
            writer.write(.windowUpdate(streamID: id, increment: increment))
        }
    }
}
