/// The final word on a call, sent by the server as the last frame of every stream.
public struct Status: Sendable, Hashable, CustomStringConvertible {
    public var code: StatusCode
    /// What went wrong and what to do; empty for `ok`.
    public var message: String
    /// Optional machine-readable details.
    public var details: [UInt8]
    /// Trailing metadata besides the transport's `request-id` (see ``RPCError/trailers``).
    public var trailers: Metadata

    public init(code: StatusCode, message: String = "", details: [UInt8] = [], trailers: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.details = details
        self.trailers = trailers
    }

    public init(_ error: RPCError) {
        self.init(code: error.code, message: error.message, details: error.details, trailers: error.trailers)
    }

    public static let ok = Status(code: .ok)

    /// The status as an error, or nil for `ok`.
    public var error: RPCError? {
        code == .ok ? nil : RPCError(code, message, details: details, trailers: trailers)
    }

    public var description: String { message.isEmpty ? "\(code)" : "\(code): \(message)" }
}
