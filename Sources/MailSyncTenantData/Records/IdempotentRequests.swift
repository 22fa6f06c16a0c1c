import Crypto
import Foundation
import MailSyncCoding
import MailSyncSecurity
import MailSyncStorage

/// Idempotency keys of the create calls (`CreateCompany`, `CreateApiKey` in the control database;
/// `CreateUser`, `CreateMailboxConnection` in the company's): a retried request gets the first
/// answer and creates nothing.
///
/// One row per scope (the method and the calling key) and idempotency key, written in the same
/// transaction as what the call created, so a retry either finds both or neither. The row keeps
/// an HMAC of the request (keyed by the server's secret: requests can hold passwords) to refuse
/// the key with another request, and the encoded answer sealed with ``SecretBox`` (an answer can
/// hold a secret: `CreateApiKey`'s). Rows are kept 24 hours (``retention``); older ones are
/// deleted whenever a new key is recorded.
package enum IdempotentRequests {
    package static let retention: Int64 = 24 * 3600 * 1_000_000

    /// What a request under a key is.
    package enum Lookup<Response: Message> {
        /// First use: create, then ``record(_:scope:key:mac:response:secrets:now:)``.
        case new
        /// Answered before: send this again.
        case replay(Response)
    }

    /// A checked key, or nil when the request has none (no replay).
    ///
    /// - Throws: `invalid argument` naming the field for a key of the wrong form.
    package static func key(_ raw: String) throws -> String? {
        guard !raw.isEmpty else { return nil }
        guard raw.utf8.count <= 128, raw.utf8.allSatisfy({ byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-_.:".utf8.contains(byte)
        }) else {
            throw TenantDataError.invalidArgument("idempotency_key must be 1–128 letters, digits, '-', '_', '.' and ':' (a UUID fits)")
        }
        return raw
    }

    /// The scope a key lives in: the method and the API key that called it.
    package static func scope(method: String, keyID: String) -> String { "\(method)/\(keyID)" }

    /// An HMAC of the request's encoding (with its idempotency key cleared by the caller).
    package static func mac(_ request: some Message, secrets: SecretBox) -> [UInt8] {
        secrets.authenticate(request.serializedBytes(), purpose: "idempotent-request")
    }

    /// The key's row of the last 24 hours (by `now`), judged against this request's `mac`.
    package static func find<Response: Message>(
        _ db: SQLiteConnection, scope: String, key: String, mac: [UInt8], secrets: SecretBox, now: Int64, as: Response.Type
    ) throws -> Lookup<Response> {
        guard let row = try db.query(
            "SELECT request_mac, response FROM idempotent_requests WHERE scope = ? AND idempotency_key = ? AND created_at >= ?",
            [.text(scope), .text(key), .integer(now - retention)]
        ).first else { return .new }
        guard row[0].bytes == mac else {
            throw TenantDataError.invalidArgument("idempotency_key '\(key)' was used for a different request in the last 24 hours; use a new key for a new request")
        }
        guard let sealed = row[1].bytes,
              let encoded = try? secrets.open(sealed, context: context(scope: scope, key: key)),
              let data = Data(base64Encoded: encoded),
              let response = try? Response(serializedBytes: Array(data))
        else {
            throw TenantDataError.corruptRow(
                table: "idempotent_requests", column: "response", row: key, "cannot be opened or decoded; use a new idempotency key")
        }
        return .replay(response)
    }

    package static func record(
        _ db: SQLiteConnection, scope: String, key: String, mac: [UInt8], response: some Message, secrets: SecretBox, now: Int64
    ) throws {
        try db.run("DELETE FROM idempotent_requests WHERE created_at < ?", [.integer(now - retention)])
        let sealed = secrets.seal(Data(response.serializedBytes()).base64EncodedString(), context: context(scope: scope, key: key))
        try db.run(
            "INSERT INTO idempotent_requests(scope, idempotency_key, request_mac, response, created_at) VALUES (?, ?, ?, ?, ?)",
            [.text(scope), .text(key), .blob(mac), .blob(sealed), .integer(now)])
    }

    private static func context(scope: String, key: String) -> String { "idempotent/\(scope)/\(key)" }
}
