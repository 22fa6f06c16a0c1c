/// A call that ended with a status other than `ok`.
///
/// Thrown by client stubs, and by server handlers to choose the status the caller sees. Any other
/// error a handler throws reaches the caller as `internal` with a generic message (the original is
/// logged, never sent: it may hold private details).
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Never `.ok`.
    public var code: StatusCode
    /// What went wrong and what to do, for a person.
    public var message: String
    /// Optional machine-readable details (an encoded message, by convention).
    public var details: [UInt8]
    /// The STATUS's trailing metadata: `request-id`, and what the server adds, such as
    /// ``Metadata/retryAfterKey`` (milliseconds to wait) on `resource exhausted`. Sent by a
    /// handler as far as the peer's metadata limit allows.
    public var trailers: Metadata

    public init(_ code: StatusCode, _ message: String, details: [UInt8] = [], trailers: Metadata = Metadata()) {
        precondition(code != .ok, "an RPCError cannot carry the ok status")
        self.code = code
        self.message = message
        self.details = details
        self.trailers = trailers
    }

    public var description: String { "\(code): \(message)" }
}
