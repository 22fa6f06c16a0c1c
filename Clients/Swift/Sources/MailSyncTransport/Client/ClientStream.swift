import MailSyncRPC
import MailSyncWire
import NIOConcurrencyHelpers
import NIOCore

/// One call on a client connection: the caller's view (`ClientCall`) and the event loop's state.
///
/// The stream id is given on the event loop when the call actually opens; until then the call's
/// frames wait in order in `outbound`.
final class ClientStream: ClientCall, @unchecked Sendable {
    let eventLoop: any EventLoop
    let inbound: InboundQueue
    let method: MethodDescriptor
    let options: CallOptions
    private let connection: ClientConnectionHandler
    private let sendBudget: Int
    /// The server's announced `maxMessageSize`: a larger request is never sent.
    private let peerMaxMessageSize: Int

    // Event-loop state.
    var id: UInt32 = 0
    var state = ClientStreamState()
    let outbound: StreamOutbound
    var assembler = MessageAssembler()
    var receiveWindow: ReceiveWindow
    var deadlineTimer: Scheduled<Void>?
    var deadline: NIODeadline?

    // Shared.
    private let lock = NIOLock()
    private var queuedBytes = 0
    private var closedError: RPCError?

    init(method: MethodDescriptor, options: CallOptions, connection: ClientConnectionHandler, eventLoop: any EventLoop,
         local: ConnectionSettings, remote: ConnectionSettings) {
        self.method = method
        self.options = options
        self.connection = connection
        self.eventLoop = eventLoop
        self.sendBudget = Int(remote.initialStreamWindow)
        self.peerMaxMessageSize = Int(remote.maxMessageSize)
        self.outbound = StreamOutbound(initialWindow: remote.initialStreamWindow)
        self.receiveWindow = ReceiveWindow(initial: local.initialStreamWindow)
        let loop = eventLoop
        let streamBox = WeakStream()
        self.inbound = InboundQueue(maxMessageSize: Int(local.maxMessageSize)) { consumed in
            loop.execute { streamBox.stream?.consumedOnLoop(consumed) }
        }
        streamBox.stream = self
    }

    func send(_ message: [UInt8]) async throws {
        let body = OutboundBody(message, compressionThreshold: options.compressionThreshold)
        let (buffer, compressed) = (body.bytes, body.compressed)
        let size = buffer.readableBytes
        if let error = overLimit(message.count, encoded: size) {
            // Never sent: the server would refuse it. The call fails here, with CANCEL code 8.
            eventLoop.execute { self.connection.cancel(self, reason: error.message, status: error) }
            throw error
        }
        let mustWait: Bool = try lock.withLock {
            if let closedError { throw closedError }
            queuedBytes += size
            return queuedBytes > sendBudget
        }
        let promise = eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in self.lock.withLock { self.queuedBytes -= size } }
        eventLoop.execute {
            self.connection.enqueue(.message(buffer, compressed: compressed, promise: promise), on: self)
        }
        if mustWait { try await promise.futureResult.get() }
    }

    /// The error for a request the server announced it would refuse (`maxMessageSize`, as sent
    /// and before compression), if it is one.
    func overLimit(_ plainSize: Int, encoded: Int) -> RPCError? {
        guard plainSize > peerMaxMessageSize || encoded > peerMaxMessageSize else { return nil }
        return RPCError(
            .resourceExhausted,
            "the request takes \(plainSize) bytes, over the \(peerMaxMessageSize)-byte maxMessageSize the server announced; send less")
    }

    func finishSending() async throws {
        if let error = lock.withLock({ closedError }) { throw error }
        eventLoop.execute { self.connection.enqueueEndStream(on: self) }
    }

    func receive() async throws -> [UInt8]? {
        try await inbound.next(onCancel: { self.cancel() })
    }

    func cancel() {
        eventLoop.execute { self.connection.cancel(self, reason: "the client cancelled the call") }
    }

    func markClosed(_ error: RPCError) {
        lock.withLock { if closedError == nil { closedError = error } }
    }

    private func consumedOnLoop(_ bytes: Int) {
        connection.consumed(bytes, on: self)
    }
}

/// Breaks the cycle between a stream and its queue's credit callback.
final class WeakStream: @unchecked Sendable {
    weak var stream: ClientStream?
}
