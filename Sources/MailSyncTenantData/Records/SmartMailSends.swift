import MailSyncCoding
import MailSyncStorage

/// Idempotency keys of `SendSmartMail`: one row per user and key in `smart_mail_sends`, claimed
/// before the mail is sent and completed with its answer after, so a retried request never sends
/// twice.
///
/// Keys are kept 24 hours (``retention``) from their first request; older rows are deleted when
/// the next key is claimed. A claim whose mail has not been answered is "sending" for
/// ``sendingWindow`` (the longest queue wait, 60 s, plus the connect and send timeouts), then
/// "interrupted": the server stopped while
/// sending, so the mail may or may not have gone, and it is not sent again under that key.
package enum SmartMailSends {
    package static let retention: Int64 = 24 * 3600 * 1_000_000
    package static let sendingWindow: Int64 = 210 * 1_000_000

    /// What a sent Smart Mail answered, kept for a retry under the same key.
    package struct Answer: Sendable, Hashable {
        package var messageId: String
        package var sentAt: Timestamp
        package var timelineEntryId: String

        package init(messageId: String, sentAt: Timestamp, timelineEntryId: String) {
            self.messageId = messageId
            self.sentAt = sentAt
            self.timelineEntryId = timelineEntryId
        }
    }

    package enum Claim: Equatable {
        /// Newly claimed: send, then ``complete(_:userID:key:response:)`` or ``release(_:userID:key:)``.
        case claimed
        /// Sent before: its answer.
        case done(Answer)
        /// Claimed by a request still sending.
        case sending
        /// Claimed by a request whose server stopped before it answered.
        case interrupted
        /// The key was used for a different request.
        case otherRequest
    }

    package static func claim(_ db: SQLiteConnection, userID: String, key: String, requestHash: String, now: Int64) throws -> Claim {
        try db.run("DELETE FROM smart_mail_sends WHERE started_at < ?", [.integer(now - retention)])
        let rows = try db.query(
            "SELECT idempotency_key, request_hash, started_at, message_id, sent_at, timeline_entry_id FROM smart_mail_sends WHERE user_id = ? AND idempotency_key = ?",
            [.text(userID), .text(key)])
        guard let row = rows.first else {
            try db.run("INSERT INTO smart_mail_sends(user_id, idempotency_key, request_hash, started_at) VALUES (?, ?, ?, ?)",
                       [.text(userID), .text(key), .text(requestHash), .integer(now)])
            return .claimed
        }
        let r = RowReader(row, table: "smart_mail_sends")
        guard try r.string("request_hash") == requestHash else { return .otherRequest }
        if let messageID = try r.optionalString("message_id") {
            return .done(Answer(
                messageId: messageID, sentAt: try r.timestamp("sent_at"), timelineEntryId: try r.string("timeline_entry_id")))
        }
        return now - (try r.int64("started_at")) < sendingWindow ? .sending : .interrupted
    }

    /// The mail went: later requests with the key get `response`.
    package static func complete(_ db: SQLiteConnection, userID: String, key: String, response: Answer) throws {
        try db.run("""
            UPDATE smart_mail_sends SET message_id = ?, sent_at = ?, timeline_entry_id = ?
            WHERE user_id = ? AND idempotency_key = ?
            """, [.text(response.messageId), .integer(response.sentAt.microsecondsSinceEpoch), .text(response.timelineEntryId),
                  .text(userID), .text(key)])
    }

    /// The mail was not sent: the key may be used again.
    package static func release(_ db: SQLiteConnection, userID: String, key: String) throws {
        try db.run("DELETE FROM smart_mail_sends WHERE user_id = ? AND idempotency_key = ? AND message_id IS NULL",
                   [.text(userID), .text(key)])
    }
}
