/// What the call layer needs from a transport to make calls. `MailSyncTransport` implements it over
/// TCP; tests may implement it in memory.
public protocol ClientTransport: Sendable {
    /// Opens a call and sends its start (method, deadline, metadata).
    ///
    /// - Throws: `RPCError(.unavailable)` when no connection can be made.
    func openCall(_ method: MethodDescriptor, options: CallOptions) async throws -> any ClientCall

    /// A whole unary call in one step: start, the one request, end of stream, then the one response.
    ///
    /// Transports implement this to send the three frames in one write.
    /// - Throws: `RPCError` with the server's status, or `unavailable` / `deadline exceeded` from the
    ///   transport itself.
    func unary(_ method: MethodDescriptor, request: [UInt8], options: CallOptions) async throws -> [UInt8]
}

/// One call in flight, seen from the client, carrying encoded messages.
public protocol ClientCall: AnyObject, Sendable {
    /// Sends one request message. Suspends while flow control holds it back.
    ///
    /// - Throws: `RPCError` when the call has already ended (its status, or `cancelled`).
    func send(_ message: [UInt8]) async throws
    /// Says that no more requests follow.
    func finishSending() async throws
    /// The next response message, or nil once the server ended the call with `ok`.
    ///
    /// - Throws: `RPCError` with the server's non-ok status, or the transport's.
    func receive() async throws -> [UInt8]?
    /// Cancels the call: the server's handler is cancelled and later calls to `receive` throw
    /// `cancelled`. Does nothing once the call has ended.
    func cancel()
}
