/// One call in flight, seen from the server, carrying encoded messages. The transport implements it.
public protocol ServerCallStream: AnyObject, Sendable {
    /// The next request message, or nil once the client has finished sending.
    ///
    /// Reading gives the client credit for more, so a handler that reads slowly slows the client.
    /// - Throws: `RPCError(.cancelled)` when the call was cancelled or its connection lost.
    func receive() async throws -> [UInt8]?
    /// Sends one response message; suspends while the client has given no credit for more.
    ///
    /// - Throws: `RPCError(.cancelled)` when the call was cancelled or its connection lost.
    func send(_ message: [UInt8]) async throws
}
