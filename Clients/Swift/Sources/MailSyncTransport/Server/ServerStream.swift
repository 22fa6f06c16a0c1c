import MailSyncRPC
import MailSyncWire
import NIOConcurrencyHelpers
import NIOCore

/// One call on a server connection: the handler task's view (`ServerCallStream`) and the event
/// loop's state for it.
///
/// Sending does not wait for the event loop while fewer than `sendBudget` bytes are queued and not
/// yet written; past that, `send` suspends until the queue drains. So a handler streaming to a slow
/// reader holds at most the stream window plus one message in memory.
final class ServerStream: ServerCallStream, @unchecked Sendable {
    let id: UInt32
    let eventLoop: any EventLoop
    let inbound: InboundQueue
    /// Weak: the connection may be gone (closed, its handler released) while a handler task still
    /// holds its stream; sending then fails with `cancelled`.
    private weak var connection: ServerConnectionHandler?
    private let sendBudget: Int
    /// The client's announced `maxMessageSize`: a larger response is never sent (section 6 of
    /// docs/protocol.md); the call fails with `resourceExhausted` instead.
    private let peerMaxMessageSize: Int
    private let compressionThreshold: Int?
    /// Unary and client-streaming calls send exactly one response, right before the handler
    /// returns: it is held and queued with the status in one event-loop turn instead of two.
    private let holdsSingleResponse: Bool

    // Event-loop state.
    var state = ServerStreamState()
    let outbound: StreamOutbound
    var assembler = MessageAssembler()
    var receiveWindow: ReceiveWindow
    var task: Task<Void, Never>?
    var deadlineTimer: Scheduled<Void>?
    /// The call's request id, echoed in the STATUS's trailing metadata.
    var requestID: String?

    // Shared between the handler task and the loop.
    private let lock = NIOLock()
    private var queuedBytes = 0
    private var closedError: RPCError?
    private var heldResponse: (ByteBuffer, Bool)?
    /// Set when a response was over the client's limit: the call's status, whatever the handler
    /// returns.
    private var sendFailure: RPCError?

    init(
        id: UInt32, eventLoop: any EventLoop, connection: ServerConnectionHandler,
        local: ConnectionSettings, remote: ConnectionSettings, compressionThreshold: Int?,
        holdsSingleResponse: Bool
    ) {
        self.holdsSingleResponse = holdsSingleResponse
        self.id = id
        self.eventLoop = eventLoop
        self.connection = connection
        self.sendBudget = Int(remote.initialStreamWindow)
        self.peerMaxMessageSize = Int(remote.maxMessageSize)
        self.compressionThreshold = compressionThreshold
        self.outbound = StreamOutbound(initialWindow: remote.initialStreamWindow)
        self.receiveWindow = ReceiveWindow(initial: local.initialStreamWindow)
        let loop = eventLoop
        self.inbound = InboundQueue(maxMessageSize: Int(local.maxMessageSize)) { [weak connection] consumed in
            guard let connection else { return }
            loop.execute { connection.consumed(consumed, on: id) }
        }
    }

    func receive() async throws -> [UInt8]? {
        try await inbound.next()
    }

    func send(_ message: [UInt8]) async throws {
        let body = OutboundBody(message, compressionThreshold: compressionThreshold)
        let (buffer, compressed) = (body.bytes, body.compressed)
        let size = buffer.readableBytes
        // Checked as the receiver checks: the message as sent and after decompression.
        if message.count > peerMaxMessageSize || size > peerMaxMessageSize {
            let error = RPCError(
                .resourceExhausted,
                "the response takes \(message.count) bytes, over the \(peerMaxMessageSize)-byte maxMessageSize this client announced; "
                    + "the server did not send it: raise the client's maxMessageSize or ask for less")
            lock.withLock { if sendFailure == nil { sendFailure = error } }
            throw error
        }
        if holdsSingleResponse {
            try lock.withLock {
                if let closedError { throw closedError }
                heldResponse = (buffer, compressed)
            }
            return
        }
        let mustWait: Bool = try lock.withLock {
            if let closedError { throw closedError }
            queuedBytes += size
            return queuedBytes > sendBudget
        }
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in self.written(size) }
        let enqueue: @Sendable () -> Void = { [self] in
            guard let connection else {
                promise.fail(RPCError(.cancelled, "the connection has closed"))
                return
            }
            connection.enqueue(.message(buffer, compressed: compressed, promise: promise), on: self)
        }
        if eventLoop.inEventLoop {
            enqueue()
        } else {
            eventLoop.execute(enqueue)
        }
        if mustWait { try await promise.futureResult.get() }
    }

    /// Called on the loop when a message of `size` bytes has been written.
    func written(_ size: Int) {
        lock.withLock { queuedBytes -= size }
    }

    /// The single response held for `finish`, if any (event loop).
    func takeHeldResponse() -> (ByteBuffer, Bool)? {
        lock.withLock {
            defer { heldResponse = nil }
            return heldResponse
        }
    }

    /// The error of a response that was not sent because it was over the client's limit.
    func takeSendFailure() -> RPCError? {
        lock.withLock { sendFailure }
    }

    /// Makes every later `send` fail (the call is over).
    func markClosed(_ error: RPCError) {
        lock.withLock { if closedError == nil { closedError = error } }
    }
}
