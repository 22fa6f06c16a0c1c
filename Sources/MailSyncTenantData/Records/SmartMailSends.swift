import Crypto
import MailSyncClient
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
enum SmartMailSends {
    static let retention: Int64 = 24 * 3600 * 1_000_000
    static let sendingWindow: Int64 = 210 * 1_000_000

    enum Claim: Equatable {
        /// Newly claimed: send, then ``complete(_:userID:key:response:)`` or ``release(_:userID:key:)``.
        case claimed
        /// Sent before: its answer.
        case done(SendSmartMailResponse)
        /// Claimed by a request still sending.
        case sending
        /// Claimed by a request whose server stopped before it answered.
        case interrupted
        /// The key was used for a different request.
        case otherRequest
    }

    static func claim(_ db: SQLiteConnection, userID: String, key: String, requestHash: String, now: Int64) throws -> Claim {
        try db.run("DELETE FROM smart_mail_sends WHERE started_at < ?", [.integer(now - retention)])
        let rows = try db.query(
            "SELECT request_hash, started_at, message_id, sent_at, timeline_entry_id FROM smart_mail_sends WHERE user_id = ? AND idempotency_key = ?",
            [.text(userID), .text(key)])
        guard let row = rows.first else {
            try db.run("INSERT INTO smart_mail_sends(user_id, idempotency_key, request_hash, started_at) VALUES (?, ?, ?, ?)",
                       [.text(userID), .text(key), .text(requestHash), .integer(now)])
            return .claimed
        }
        guard row[0].string == requestHash else { return .otherRequest }
        if let messageID = row[2].string {
            var response = SendSmartMailResponse()
            response.messageId = messageID
            response.sentAt = Timestamp(microsecondsSinceEpoch: row[3].int64 ?? 0)
            response.timelineEntryId = row[4].string ?? ""
            return .done(response)
        }
        return now - (row[1].int64 ?? 0) < sendingWindow ? .sending : .interrupted
    }

    /// The mail went: later requests with the key get `response`.
    static func complete(_ db: SQLiteConnection, userID: String, key: String, response: SendSmartMailResponse) throws {
        try db.run("""
            UPDATE smart_mail_sends SET message_id = ?, sent_at = ?, timeline_entry_id = ?
            WHERE user_id = ? AND idempotency_key = ?
            """, [.text(response.messageId), .integer(response.sentAt.microsecondsSinceEpoch), .text(response.timelineEntryId),
                  .text(userID), .text(key)])
    }

    /// The mail was not sent: the key may be used again.
    static func release(_ db: SQLiteConnection, userID: String, key: String) throws {
        try db.run("DELETE FROM smart_mail_sends WHERE user_id = ? AND idempotency_key = ? AND message_id IS NULL",
                   [.text(userID), .text(key)])
    }

    /// What makes two requests the same: every field but the key, length-prefixed, hashed.
    static func requestHash(_ request: SendSmartMailRequest) -> String {
        var hasher = SHA256()
        func field(_ text: String) {
            let bytes = Array(text.utf8)
            hasher.update(data: withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { Array($0) })
            hasher.update(data: bytes)
        }
        for text in [request.leadId, request.subject, request.textBody, request.htmlBody, request.opportunityId] { field(text) }
        field("to:\(request.to.count)")
        request.to.forEach(field)
        field("cc:\(request.cc.count)")
        request.cc.forEach(field)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
