public import MailSyncCoding

/// Writes the responses of a server-streaming call.
public struct ResponseWriter<Response: Message>: Sendable {
    let stream: any ServerCallStream

    public init(stream: any ServerCallStream) { self.stream = stream }

    /// Sends one response; suspends while the client has given no credit for more, which bounds
    /// the server's memory for a slow reader.
    ///
    /// - Throws: `RPCError(.cancelled)` once the call is cancelled; let it propagate.
    public func write(_ response: Response) async throws {
        try await stream.send(response.serializedBytes())
    }
}
