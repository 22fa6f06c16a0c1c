public import MailSyncClient
public import MailSyncCoding
import MailSyncRPC
import MailSyncSecurity
public import MailSyncStorage

/// API key rows in the control database. Only the SHA-256 of a secret is stored; the secret is
/// returned once, by `insert`.
public enum APIKeyStore {
    static let columns = "id, company_id, role, user_id, label, secret_prefix, created_at, expires_at, last_used_at, revoked"

    /// Adds a key and returns it with its secret.
    public static func insert(
        _ db: SQLiteConnection, companyID: String?, role: String, userID: String, label: String,
        expiresAt: Timestamp?, now: Timestamp
    ) throws -> (ApiKey, String) {
        let secret = APIKeySecret.generate()
        try db.run(
            "INSERT INTO api_keys(id, company_id, role, user_id, label, secret_hash, secret_prefix, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.text(secret.keyID), companyID.map { .text($0) } ?? .null, .text(role), .text(userID), .text(label),
             .blob(secret.hash), .text(secret.prefix), .integer(now.microsecondsSinceEpoch),
             expiresAt.map { .integer($0.microsecondsSinceEpoch) } ?? .null])
        return (try require(db, id: secret.keyID), secret.secret)
    }

    static func key(_ row: Row) -> ApiKey {
        var key = ApiKey()
        key.id = row[0].string ?? ""
        key.companyId = row[1].string ?? ""
        key.role = row[2].string ?? ""
        key.userId = row[3].string ?? ""
        key.label = row[4].string ?? ""
        key.secretPrefix = row[5].string ?? ""
        key.createdAt = Timestamp(microsecondsSinceEpoch: row[6].int64 ?? 0)
        key.expiresAt = row[7].int64.map(Timestamp.init(microsecondsSinceEpoch:))
        key.lastUsedAt = row[8].int64.map(Timestamp.init(microsecondsSinceEpoch:))
        key.revoked = row[9].int64 == 1
        return key
    }

    static func require(_ db: SQLiteConnection, id: String) throws -> ApiKey {
        guard let row = try db.query("SELECT \(columns) FROM api_keys WHERE id = ?", [.text(id)]).first else {
            throw RPCError(.notFound, "no API key '\(id)'")
        }
        return key(row)
    }
}
