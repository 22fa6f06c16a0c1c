/// Framer and parser together: bytes in, parsed responses out.
///
/// - Failure: a framing error (limits) is fatal and repeats on every call, as in
///   `IMAPResponseFramer`. A parse error concerns one response only: it is thrown once with the
///   response's bytes consumed, and the next call goes on with the following response.
/// - Not thread-safe: owned by the connection's reading thread.
public struct IMAPResponseDecoder: Sendable {
    private var framer: IMAPResponseFramer
    private let parser: IMAPParser

    public init(limits: IMAPLimits = IMAPLimits()) {
        framer = IMAPResponseFramer(limits: limits)
        parser = IMAPParser(limits: limits)
    }

    /// The current command's byte budget: see ``IMAPResponseFramer/budget``.
    public var budget: IMAPByteBudget? {
        get { framer.budget }
        set { framer.budget = newValue }
    }

    /// Bytes received and not yet returned as a response (``IMAPResponseFramer/bufferedByteCount``).
    public var bufferedByteCount: Int { framer.bufferedByteCount }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        framer.append(bytes)
    }

    /// The next complete response, or `nil` if more bytes are needed.
    public mutating func next() throws(IMAPError) -> IMAPResponse? {
        guard let frame = try framer.nextResponse() else { return nil }
        return try parser.parse(frame)
    }
}
