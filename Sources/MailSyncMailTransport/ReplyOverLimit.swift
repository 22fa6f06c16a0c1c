import MailSyncErrors
import MailSyncIMAP

/// The error-log words for a server reply that went over a limit (``IMAPReplyBudget``,
/// ``IMAPLimits``): which server, what it sent, and what was allowed.
///
/// Every such failure is a `ConnectionFailure` of kind `.replyOverLimit` (class temporary: the
/// mailbox is retried with backoff), its detail a sentence such as "The IMAP server
/// imap.example.com sent a 52,428,800-byte message where it had announced 2,000 bytes".
enum ReplyOverLimit {
    /// The failure for a framing error that is a limit; `nil` for other errors (unreadable bytes).
    /// `what` names the command when the budget has no purpose.
    static func failure(_ error: IMAPError, budget: IMAPReplyBudget, what: String, host: String, port: Int) -> MailFailure? {
        let size = error.size.map(grouped) ?? "?"
        let limit = error.limit.map(grouped) ?? "?"
        let server = "The IMAP server \(host)"
        let detail: String
        switch error.code {
        case .literalTooLarge:
            detail = "\(server) announced a \(size)-byte literal in its reply to \(what); Mail Sync accepts at most \(limit) bytes in one"
        case .responseTooLarge:
            detail = "\(server) sent a single response of more than \(limit) bytes in its reply to \(what) (the most Mail Sync accepts in one response)"
        case .lineTooLong:
            detail = "\(server) sent more than \(limit) bytes of response text without literals in its reply to \(what) (the most Mail Sync accepts)"
        case .literalOverBudget:
            if let announced = budget.announcedLargest, announced > 0 {
                let words = budget.announcedCount == 1 ? "it had announced" : "the largest message it had announced was"
                detail = "\(server) sent a \(size)-byte message where \(words) \(grouped(announced)) bytes"
            } else {
                detail = "\(server) sent a \(size)-byte literal in its reply to \(what), where at most \(limit) bytes were allowed"
            }
        case .overBudget:
            detail = "\(server) sent more than \(limit) bytes in its reply to \(what)"
        default:
            return nil
        }
        return .connection(ConnectionFailure(.replyOverLimit, host: host, port: port, detail: detail))
    }

    /// Too many responses nobody asked for; `last` is the last one, quoted briefly.
    static func unsolicited(limit: Int, what: String, last: String, host: String, port: Int) -> MailFailure {
        .connection(ConnectionFailure(
            .replyOverLimit, host: host, port: port,
            detail: "The IMAP server \(host) sent more than \(grouped(limit)) responses nobody asked for while answering \(what) (the last: \(last))"))
    }

    /// A body (found once its FETCH response was read) larger than its announced RFC822.SIZE allows.
    static func bodyOverAnnounced(uid: UInt32, size: Int, announced: UInt64, host: String, port: Int) -> MailFailure {
        .connection(ConnectionFailure(
            .replyOverLimit, host: host, port: port,
            detail: "The IMAP server \(host) sent a \(grouped(size))-byte message (UID \(uid)) where it had announced \(grouped(announced)) bytes"))
    }

    /// `1 message`, `1,000 messages`.
    static func counted(_ count: Int, _ noun: String) -> String {
        "\(grouped(count)) \(noun)\(count == 1 ? "" : "s")"
    }

    /// `52428800` → `52,428,800`.
    static func grouped(_ value: some BinaryInteger) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// A response quoted for the error log: its first 60 characters.
    static func quote(_ response: MailSyncIMAP.IMAPResponse) -> String {
        let text: String
        switch response {
        case .tagged(let tag, let status): text = "\(tag) \(status.condition.rawValue) \(status.text)"
        case .continuation(let text2): text = "+ \(text2)"
        case .untagged(let untagged):
            switch untagged {
            case .status(let status): text = "* \(status.condition.rawValue) \(status.text)"
            case .exists(let n): text = "* \(n) EXISTS"
            case .recent(let n): text = "* \(n) RECENT"
            case .expunge(let n): text = "* \(n) EXPUNGE"
            case .fetch(let n, _): text = "* \(n) FETCH (…)"
            case .other(let keyword, let rest): text = "* \(keyword) \(rest)"
            default: text = "* …"
            }
        }
        let printable = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
        return printable.count > 60 ? String(printable.prefix(60)) + "…" : printable
    }
}
