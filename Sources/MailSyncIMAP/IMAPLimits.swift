/// Bounds on what one server response may make us buffer or recurse into.
///
/// A server (or anything on the path to it) is untrusted input: these bound memory and stack.
/// Exceeding any of them is an `IMAPError`, never a truncation.
public struct IMAPLimits: Hashable, Sendable {
    /// Most bytes of response text, literal bytes excluded, counting every line of a response that
    /// continues after literals. Default 64 KiB. Checked while bytes arrive, before CRLF is seen.
    public var maxLineLength: Int
    /// Largest literal (`{n}` or `~{n}`) accepted. Default 50 MiB. Checked from the header, so an
    /// oversized literal is refused before any of its bytes are buffered.
    public var maxLiteralSize: Int
    /// Deepest nesting of parenthesized lists. Default 32 (BODYSTRUCTURE of real mail stays < 10).
    public var maxNestingDepth: Int

    public init(maxLineLength: Int = 64 * 1024, maxLiteralSize: Int = 50 * 1024 * 1024, maxNestingDepth: Int = 32) {
        self.maxLineLength = maxLineLength
        self.maxLiteralSize = maxLiteralSize
        self.maxNestingDepth = maxNestingDepth
    }
}
