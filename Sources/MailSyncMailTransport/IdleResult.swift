import MailSyncIMAP

/// How an ``IMAPConnection/idle(for:budget:)`` ended; the connection is selected and usable
/// again afterwards (`DONE` was sent and the `IDLE` completed).
public struct IdleResult: Sendable {
    public enum End: Sendable, Hashable {
        /// The server reported a change to the selected folder (EXISTS, RECENT, EXPUNGE or FETCH).
        case changed
        /// The duration passed without a change: re-issue the IDLE.
        case timedOut
        /// The calling task was cancelled (or the connection is closing).
        case cancelled
    }

    public var end: End
    /// The changes the server reported while idling (and in reply to `DONE`), in order, at most
    /// the budget's ``IMAPReplyBudget/maxUnsolicitedKept``.
    public var changes: [MailSyncIMAP.IMAPResponse]
}

extension IMAPReplyBudget {
    /// For one IDLE: 4 MiB, at most 64 KiB per literal, the first 1,000 changes kept (more are
    /// counted as a change but dropped), and at most 10,000 responses that report no change
    /// (`* OK Still here` keep-alives come every few minutes) before the idle fails. A server that floods the idle connection fails it instead of filling
    /// memory; the caller falls back to polling.
    public static var idle: IMAPReplyBudget {
        var budget = IMAPReplyBudget(maxBytes: 4 << 20, maxLiteralSize: 64 << 10, purpose: "IDLE")
        budget.maxUnsolicitedKept = 1000
        budget.maxUnsolicited = 10_000
        return budget
    }
}
