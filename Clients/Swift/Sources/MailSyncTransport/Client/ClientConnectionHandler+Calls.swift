import MailSyncRPC
import MailSyncWire
import NIOCore

/// The calls of a client connection: opening one (now, or when a slot frees), its frames and
/// flow-control credit, cancelling it, and its end. Event-loop bound, like the handler.
extension ClientConnectionHandler {
    /// Starts a call: opens it now, or queues it until a slot frees.
    func open(_ stream: ClientStream) {
        if case .failCall(let error) = state.onOpenCall() {
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

    func activate(_ stream: ClientStream) {
        guard context != nil else { return }
        let id = nextStreamID
        nextStreamID += 2
        if nextStreamID > Self.maxStreamID {
            // Ids run out after about a billion calls: new calls go to a new connection.
            run(state.onStreamIDsExhausted(lastStreamID: id))
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
        writer.scheduler.markReady(id, stream.outbound)
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
            writer.scheduler.enqueue(item, streamID: stream.id, on: stream.outbound)
            scheduleFlush()
        }
    }

    func enqueueEndStream(on stream: ClientStream) {
        guard stream.state.closeSending() else { return }
        if stream.id == 0 {
            stream.outbound.items.append(.frame(.endStream(streamID: 0)))
        } else {
            writer.scheduler.enqueue(.frame(.endStream(streamID: stream.id)), streamID: stream.id, on: stream.outbound)
            scheduleFlush()
        }
    }

    func consumed(_ bytes: Int, on stream: ClientStream) {
        guard stream.id != 0, !stream.state.isClosed, let increment = stream.receiveWindow.consume(bytes) else { return }
        writer.write(.windowUpdate(streamID: stream.id, increment: increment))
        scheduleFlush()
    }

    /// Abandons a call: CANCEL to the server (if it was opened), and the caller gets `status`.
    func cancel(_ stream: ClientStream, reason: String, status: RPCError? = nil) {
        guard !stream.state.isClosed else { return }
        let error = status ?? RPCError(.cancelled, reason)
        if stream.id != 0 {
            stream.outbound.discard(error)
            writer.write(.cancel(streamID: stream.id, CancelPayload(code: error.code.rawValue, reason: reason)))
        }
        close(stream, .failure(error), discardBuffered: true)
        scheduleFlush()
    }

    func close(_ stream: ClientStream, _ result: Result<Void, RPCError>, discardBuffered: Bool) {
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

    func closeIfDrained() {
        if streams.isEmpty, waiting.isEmpty { run(state.onNoCallsLeft()) }
    }

    /// Credits a fragment of a message that is not complete yet, when the reader is waiting for
    /// it (see `MessageAssembler`).
    func creditPartial(_ size: Int, on stream: ClientStream, id: UInt32) {
        guard stream.inbound.isDrained else { return }
        stream.assembler.credited(size)
        if let increment = stream.receiveWindow.consume(size) {
            writer.write(.windowUpdate(streamID: id, increment: increment))
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
}
