public import Logging
public import MailSyncRPC
import MailSyncWire
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix

/// The client side of the Mail Sync protocol over TCP (or TLS): one connection to one endpoint,
/// made on first use, shared by every call, and remade after it closes.
///
/// Transport failures reach callers as `RPCError(.unavailable)` (safe to retry for idempotent
/// methods), deadlines as `deadlineExceeded`. After a failed connection attempt the transport waits
/// (exponential backoff with jitter, see `ClientConfiguration`) before trying again; calls made
/// meanwhile fail at once instead of piling up.
public final class TCPClientTransport: ClientTransport {
    public let host: String
    public let port: Int
    private let configuration: ClientConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(ConnectionManagerState<ClientConnection>())

    public init(
        host: String, port: Int, configuration: ClientConfiguration = ClientConfiguration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "mailsync.client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = group
        self.logger = logger
    }

    public func openCall(_ method: MethodDescriptor, options: CallOptions) async throws -> any ClientCall {
        let connection = try await connection()
        let stream = connection.makeStream(method, options: options)
        connection.open(stream)
        return stream
    }

    public func unary(_ method: MethodDescriptor, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        let connection = try await connection()
        let stream = connection.makeStream(method, options: options)
        let body = OutboundBody(request, compressionThreshold: options.compressionThreshold)
        // Not sent at all when the server announced it would refuse it.
        if let error = stream.overLimit(request.count, encoded: body.bytes.readableBytes) { throw error }
        // The three frames are queued in one event-loop turn; the reply wakes this task once.
        stream.outbound.items.append(.message(body.bytes, compressed: body.compressed, promise: nil))
        _ = stream.state.closeSending()
        stream.outbound.items.append(.frame(.endStream(streamID: 0)))
        connection.open(stream)
        // Woken once, by the STATUS (which arrives with the response), not once per frame.
        switch try await stream.inbound.single(onCancel: { stream.cancel() }) {
        case .one(let item):
            return try stream.inbound.bytes(of: item)
        case .none:
            throw RPCError(.internal, "the server ended \(method) with ok but no response")
        case .several:
            stream.cancel()
            throw RPCError(.internal, "the server sent more than one response to unary \(method)")
        }
    }

    /// Connects now, or waits for the connection being made, without opening a call.
    ///
    /// Returns at once when connected. A routing client asks this before sending to a node it
    /// only remembers, so that a node gone is found before anything is sent.
    /// - Throws: `RPCError(.unavailable)` when no connection can be made (or the transport is
    ///   closed, or waiting out its backoff).
    public func connect() async throws {
        _ = try await connection()
    }

    /// Closes the connection once its calls finish; later calls fail with `unavailable`.
    public func close() {
        state.withLockedValue { $0.close() }?.closeGracefully()
    }

    private func connection() async throws -> ClientConnection {
        let action = state.withLockedValue { $0.callArrived(now: .now()) }
        switch action {
        case .use(let connection): return connection
        case .fail(let error): throw error
        case .wait(let future): return try await awaitConnection(future)
        case .connect:
            let future: EventLoopFuture<ClientConnection> = state.withLockedValue { state in
                // Another call may have started connecting meanwhile.
                switch state.callArrived(now: .now()) {
                case .wait(let existing): return existing
                case .use(let connection): return connection.eventLoop.makeSucceededFuture(connection)
                case .fail(let error): return group.next().makeFailedFuture(error)
                case .connect:
                    let future = ClientConnection.connect(
                        host: host, port: port, configuration: configuration, group: group, logger: logger
                    ) { [weak self] connection in
                        self?.state.withLockedValue { $0.connectionUnusable(connection) }
                    }
                    state.connecting(future)
                    return future
                }
            }
            future.whenComplete { [weak self] result in
                guard let self else { return }
                self.state.withLockedValue { state in
                    switch result {
                    case .success(let connection):
                        // Closed while connecting: nothing else will close this connection.
                        state.connected(connection)?.closeGracefully()
                    case .failure(let error):
                        let wait = connectionBackoff(failures: state.consecutiveFailures + 1, configuration: self.configuration)
                        state.connectFailed(error: Self.describe(error), backoff: wait, now: .now())
                    }
                }
            }
            return try await awaitConnection(future)
        }
    }

    private func awaitConnection(_ future: EventLoopFuture<ClientConnection>) async throws -> ClientConnection {
        do {
            return try await future.get()
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(.unavailable, "cannot connect to \(host):\(port): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let rpc = error as? RPCError { return rpc.message }
        return String(describing: error)
    }
}
