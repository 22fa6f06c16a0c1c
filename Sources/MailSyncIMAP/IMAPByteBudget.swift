/// What the replies to one command (or one pipelined batch of commands) may add up to, charged
/// by ``IMAPResponseFramer`` as bytes arrive.
///
/// ``IMAPLimits`` bound each response; a budget bounds their sum, so a server cannot make one
/// command hold more memory than its caller planned for (many literals, millions of small
/// responses). Charged:
/// - every literal's announced size, from its `{n}` header, before any of its bytes is buffered
///   (so the refusal costs nothing);
/// - every line's bytes, line ending included, when the line is complete (a line is bounded by
///   ``IMAPLimits/maxLineLength`` until then); empty lines too;
/// - ``responseCost`` more for each complete response: a parsed response takes more memory than
///   its bytes on the wire, so many tiny ones must not be cheaper than one large one.
///
/// A literal over ``maxLiteralSize`` throws `IMAPError.literalOverBudget`; anything that would
/// take ``used`` past ``maxBytes`` throws `IMAPError.overBudget`. Both carry the size and the
/// limit, and like every framing error they are final: drop the connection.
public struct IMAPByteBudget: Hashable, Sendable {
    /// Most bytes the replies may take, as charged above.
    public var maxBytes: Int
    /// Largest literal accepted under this budget (``IMAPLimits/maxLiteralSize`` applies as well).
    public var maxLiteralSize: Int
    /// Charged so far.
    public internal(set) var used = 0

    /// What each complete response costs on top of its bytes: 256. A parsed response takes 88
    /// bytes in its command's list plus its arrays and strings (a small FETCH about 300 in all,
    /// `* OK x` about 90), so the budget bounds memory, not only bytes on the wire.
    public static let responseCost = 256

    public init(maxBytes: Int, maxLiteralSize: Int = .max) {
        self.maxBytes = max(0, maxBytes)
        self.maxLiteralSize = max(0, maxLiteralSize)
    }

    /// Bytes still allowed.
    public var remaining: Int { maxBytes - used }

    /// Charges `count` bytes, or throws `.overBudget` without charging.
    mutating func charge(_ count: Int, what: String) throws(IMAPError) {
        guard count <= remaining else {
            let (total, overflow) = used.addingReportingOverflow(count)
            throw IMAPError(
                .overBudget, "\(what) would take the replies past their budget of \(maxBytes) bytes (\(used) used)",
                size: overflow ? Int.max : total, limit: maxBytes)
        }
        used += count
    }

    /// Charges a literal announced as `size` bytes, or throws without charging.
    mutating func chargeLiteral(_ size: Int) throws(IMAPError) {
        guard size <= maxLiteralSize else {
            throw IMAPError(.literalOverBudget, "literal of \(size) bytes announced, \(maxLiteralSize) allowed for this command", size: size, limit: maxLiteralSize)
        }
        try charge(size, what: "a literal of \(size) bytes")
    }
}
