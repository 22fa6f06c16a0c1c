import MailSyncIMAP

/// What the replies to one command, or to one pipelined batch, may bring: bytes, literal sizes,
/// and responses nobody asked for.
///
/// - Bytes: the framer charges every line, every literal (from its `{n}` header, before its bytes
///   are buffered) and 256 bytes per response (``IMAPByteBudget``) against ``maxBytes``; a
///   literal over ``maxLiteralSize`` is refused from its header too. Responses nobody asked for
///   are charged like the others: they cost the same bandwidth and time.
/// - Responses nobody asked for (``IMAPConnection/pipeline(_:timeout:budget:)`` decides by
///   command: `* OK` without a code, `* NO`, FETCH for other UIDs, EXISTS during a FETCH, unknown
///   responses, tagged responses with unknown tags, continuations) are kept up to
///   ``maxUnsolicitedKept``, then counted and dropped; more than ``maxUnsolicited`` of them fail
///   the command.
/// - Failure: going over any of these fails the command with a `ConnectionFailure` of kind
///   `.replyOverLimit` (class temporary) naming the server and what was exceeded, and the
///   connection is unusable afterwards (its framing may be lost): open a new one.
public struct IMAPReplyBudget: Sendable, Hashable {
    /// Most bytes the replies may take. ``standard``: 64 MiB.
    public var maxBytes: Int
    /// Largest literal accepted (``IMAPLimits/maxLiteralSize``, 50 MiB, applies as well).
    public var maxLiteralSize: Int
    /// What was asked for, in words for the error log ("the bodies of 3 messages"); `nil`: the
    /// command's name (`LIST`, `UID FETCH`).
    public var purpose: String?
    /// When set, a FETCH response counts as asked for only if it carries one of these UIDs
    /// (flag updates for other messages are not what a fetch asked for).
    public var fetchUIDs: Set<UInt32>?
    /// For body fetches: the largest RFC822.SIZE the server announced for the messages asked
    /// for, and how many messages, so a literal refused from its header can be told apart from
    /// what was announced ("sent a 52,428,800-byte message where it had announced 2,000 bytes").
    public var announcedLargest: UInt64?
    public var announcedCount = 0
    /// Responses nobody asked for that are kept with the command's responses. Default 1,000.
    public var maxUnsolicitedKept = 1000
    /// Responses nobody asked for that fail the command when exceeded. Default 100,000
    /// (3 million `* OK x` lines once took 276 MB when they were all kept).
    public var maxUnsolicited = 100_000

    public init(maxBytes: Int, maxLiteralSize: Int = .max, purpose: String? = nil, fetchUIDs: Set<UInt32>? = nil) {
        self.maxBytes = maxBytes
        self.maxLiteralSize = maxLiteralSize
        self.purpose = purpose
        self.fetchUIDs = fetchUIDs
    }

    /// For commands without a budget of their own (LIST, STATUS, EXAMINE, SEARCH, …): 64 MiB,
    /// room for a plain SEARCH of a folder with millions of messages or a LIST of 100,000 folders.
    public static let standard = IMAPReplyBudget(maxBytes: 64 << 20)

    /// Bytes a header fetch may take per message: 64 KiB (an ENVELOPE's text is at most
    /// ``IMAPLimits/maxLineLength``, its literals are a few header fields), plus 1 MiB per batch.
    public static let headerBytesPerMessage = 64 << 10

    /// What a body fetch may add to each announced size: 10% + 64 KiB (servers count line
    /// endings differently; a few report sizes that are slightly off).
    public static func bodyAllowance(announced: UInt64) -> Int {
        guard announced > 0 else { return IMAPLimits().maxLiteralSize }  // not announced
        let size = Int(clamping: announced)
        return size.saturatingAdd(size / 10).saturatingAdd(64 << 10)
    }

    /// For `UID FETCH … (UID INTERNALDATE RFC822.SIZE ENVELOPE)` of `uids`.
    public static func headers(uids: Set<UInt32>) -> IMAPReplyBudget {
        IMAPReplyBudget(
            maxBytes: (uids.count.saturatingMultiply(headerBytesPerMessage)).saturatingAdd(1 << 20),
            purpose: "the headers of \(ReplyOverLimit.counted(uids.count, "message"))", fetchUIDs: uids)
    }

    /// For `UID FETCH … (UID BODY.PEEK[])` of the messages `announced` names (UID → RFC822.SIZE
    /// from the header fetch; 0 when the server announced none): each literal may be
    /// ``bodyAllowance(announced:)`` of the largest, all together the sum of the allowances
    /// plus 1 MiB.
    public static func bodies(announced: [UInt32: UInt64]) -> IMAPReplyBudget {
        var total = 1 << 20
        var largestAllowance = 0
        var announcedTotal: UInt64 = 0
        for size in announced.values {
            let allowance = bodyAllowance(announced: size)
            total = total.saturatingAdd(allowance)
            largestAllowance = max(largestAllowance, allowance)
            announcedTotal = announcedTotal.addingReportingOverflow(size).overflow ? .max : announcedTotal + size
        }
        var budget = IMAPReplyBudget(
            maxBytes: total, maxLiteralSize: largestAllowance,
            purpose: "the bodies of \(ReplyOverLimit.counted(announced.count, "message")) (\(ReplyOverLimit.grouped(announcedTotal)) bytes announced)",
            fetchUIDs: Set(announced.keys))
        budget.announcedLargest = announced.values.max()
        budget.announcedCount = announced.count
        return budget
    }
}

extension Int {
    func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    func saturatingMultiply(_ other: Int) -> Int {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }
}
