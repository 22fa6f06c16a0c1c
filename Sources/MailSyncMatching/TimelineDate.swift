/// Which date a recorded email shows on the timeline: the sender's `Date:` header when it is
/// sane, else the mail server's INTERNALDATE (when the message reached the mailbox — for
/// imported or moved mail, the day of the import).
///
/// The header is sane when it parses (``MailDate``), is not later than `now` plus
/// ``futureSkew`` (a sender's clock a little fast is fine; a year ahead is not), and is not
/// earlier than the mailbox's backfill point minus a day (IMAP `SINCE` works in whole days).
public struct TimelineDate: Equatable, Sendable {
    public enum Source: Int, Sendable {
        /// The `Date:` header.
        case dateHeader = 1
        /// The server's INTERNALDATE (or, without one, the time of the sync).
        case serverReceived = 2
    }

    /// Microseconds since 1970 UTC.
    public var microseconds: Int64
    public var source: Source

    /// How far in the future a `Date:` header may be and still count. Default one hour.
    public static let futureSkew: Int64 = 3_600_000_000

    public init(microseconds: Int64, source: Source) {
        self.microseconds = microseconds
        self.source = source
    }

    /// - Parameters:
    ///   - header: the raw `Date:` header (nil when absent).
    ///   - internalDate: the server's INTERNALDATE in µs (nil when it sent none).
    ///   - now: the sync's time, µs.
    ///   - backfill: the mailbox's backfill point, µs (mail before it is not synced).
    public static func choose(header: [UInt8]?, internalDate: Int64?, now: Int64, backfill: Int64) -> TimelineDate {
        if let header, let date = MailDate.parse(header),
           date <= now &+ futureSkew, date >= backfill &- 86_400_000_000 {
            return TimelineDate(microseconds: date, source: .dateHeader)
        }
        return TimelineDate(microseconds: internalDate ?? now, source: .serverReceived)
    }
}
