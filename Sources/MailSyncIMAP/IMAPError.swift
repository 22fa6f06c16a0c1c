/// Why the framer or the parser refused the server's bytes.
///
/// Every refusal is one of these; malformed input never traps. `code` is for callers to branch on;
/// `detail` says where and why, for the error log, and may quote a few bytes of the input.
/// Once the framer has thrown it stays failed (the stream position is lost): close the connection.
public struct IMAPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set: new codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case lineTooLong
            case literalTooLarge
            case invalidLiteralHeader
            case unterminatedQuotedString
            case nestingTooDeep
            case unexpectedEnd
            case unexpectedByte
            case invalidNumber
            case responseTooLarge
            case overBudget
            case literalOverBudget
        }

        private let base: Base

        /// A response's text (without literal bytes) grew past `IMAPLimits.maxLineLength`.
        public static let lineTooLong = Code(base: .lineTooLong)
        /// A literal's `{n}` header announced more than `IMAPLimits.maxLiteralSize` bytes.
        public static let literalTooLarge = Code(base: .literalTooLarge)
        /// A literal header that is not `{digits}` (or `~{digits}`) right before CRLF.
        public static let invalidLiteralHeader = Code(base: .invalidLiteralHeader)
        /// A quoted string with no closing `"` before the end of the line.
        public static let unterminatedQuotedString = Code(base: .unterminatedQuotedString)
        /// Parenthesized lists nested deeper than `IMAPLimits.maxNestingDepth`.
        public static let nestingTooDeep = Code(base: .nestingTooDeep)
        /// The response ended where the grammar needs more.
        public static let unexpectedEnd = Code(base: .unexpectedEnd)
        /// A byte the grammar does not allow at that position (garbage, a missing space, …).
        public static let unexpectedByte = Code(base: .unexpectedByte)
        /// A number that is missing, too long, or out of its range (UInt32 for ids, UInt64 for sizes).
        public static let invalidNumber = Code(base: .invalidNumber)
        /// One response's text and literals together would exceed `IMAPLimits.maxResponseSize`.
        public static let responseTooLarge = Code(base: .responseTooLarge)
        /// The replies to one command would exceed their ``IMAPByteBudget/maxBytes``.
        public static let overBudget = Code(base: .overBudget)
        /// A literal's header announced more than the command's ``IMAPByteBudget/maxLiteralSize``.
        public static let literalOverBudget = Code(base: .literalOverBudget)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// Where and why, for the error log.
    public var detail: String
    /// For a limit exceeded: the size that exceeded it (a literal's announced size, the bytes a
    /// response or the replies would have taken), in bytes; `nil` otherwise.
    public var size: Int?
    /// For a limit exceeded: the limit, in bytes; `nil` otherwise.
    public var limit: Int?

    public init(_ code: Code, _ detail: String, size: Int? = nil, limit: Int? = nil) {
        self.code = code
        self.detail = detail
        self.size = size
        self.limit = limit
    }

    public var description: String { "IMAPError.\(code): \(detail)" }
}
