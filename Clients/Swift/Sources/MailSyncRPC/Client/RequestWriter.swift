public import MailSyncCoding

/// Writes the requests of a client-streaming call.
public struct RequestWriter<Request: Message>: Sendable {
    let call: any ClientCall

    init(call: any ClientCall) { self.call = call }

    /// Sends one request; suspends while the server has given no credit for more.
    ///
    /// - Throws: `RPCError` if the call has ended (for example the server failed it early).
    public func write(_ request: Request) async throws {
        try await call.send(request.serializedBytes())
    }

    /// Sends every request in order.
    public func write(contentsOf requests: some Sequence<Request>) async throws {
        for request in requests { try await write(request) }
    }
}
