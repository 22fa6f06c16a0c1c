/// Bounds on what one server response may make us buffer or recurse into.
///
/// A server (or anything on the path to it) is untrusted input: these bound memory and stack.
/// Exceeding any of them is an `IMAPError`, never a truncation. They hold for every response;
/// what one command's replies may add up to is an ``IMAPByteBudget``.
public struct IMAPLimits: Hashable, Sendable {
    /// Most bytes of response text, literal bytes excluded, counting every line of a response that
    /// continues after literals. Default 64 KiB. Checked while bytes arrive, before CRLF is seen.
    public var maxLineLength: Int
    /// Largest literal (`{n}` or `~{n}`) accepted. Default 50 MiB. Checked from the header, so an
    /// oversized literal is refused before any of its bytes are buffered.
    public var maxLiteralSize: Int
    /// Deepest nesting of parenthesized lists. Default 32 (BODYSTRUCTURE of real mail stays < 10).
    public var maxNestingDepth: Int
    /// Most bytes of one whole response: its text (line endings excluded) plus every literal's
    /// bytes. Default ``maxLiteralSize`` + 1 MiB: one message of the largest size with room for
    /// the rest of its FETCH response, but never two (16 literals of 50 MiB in one response were
    /// once sent to take 800 MB). Checked from each literal's header, before its bytes are buffered.
    public var maxResponseSize: Int

    public init(maxLineLength: Int = 64 * 1024, maxLiteralSize: Int = 50 * 1024 * 1024, maxNestingDepth: Int = 32, maxResponseSize: Int? = nil) {
        self.maxLineLength = maxLineLength
        self.maxLiteralSize = maxLiteralSize
        self.maxNestingDepth = maxNestingDepth
        let (sum, overflow) = maxLiteralSize.addingReportingOverflow(1 << 20)
        self.maxResponseSize = maxResponseSize ?? (overflow ? Int.max : sum)
    }
}
