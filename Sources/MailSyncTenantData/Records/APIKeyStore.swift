import MailSyncCoding
import MailSyncSecurity
import MailSyncStorage

/// API key rows in the control database. Only the SHA-256 of a secret is stored; the secret is
/// returned once, by `insert`.
public enum APIKeyStore {
    package static let columns = "id, company_id, role, user_id, label, secret_prefix, created_at, expires_at, last_used_at, revoked"

    /// Adds a key and returns it with its secret.
    public static func insert(
        _ db: SQLiteConnection, companyID: String?, role: String, userID: String, label: String,
        expiresAt: Timestamp?, now: Timestamp
    ) throws -> (APIKeyRecord, String) {
        let secret = APIKeySecret.generate()
        try db.run(
            "INSERT INTO api_keys(id, company_id, role, user_id, label, secret_hash, secret_prefix, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [.text(secret.keyID), companyID.map { .text($0) } ?? .null, .text(role), .text(userID), .text(label),
             .blob(secret.hash), .text(secret.prefix), .integer(now.microsecondsSinceEpoch),
             expiresAt.map { .integer($0.microsecondsSinceEpoch) } ?? .null])
        return (try require(db, id: secret.keyID), secret.secret)
    }

    /// Decodes a row selected with ``columns``; a bad value is a ``TenantDataError`` naming it.
    package static func key(_ row: Row) throws -> APIKeyRecord {
        let r = RowReader(row, table: "api_keys")
        return APIKeyRecord(
            id: try r.string("id"), companyId: try r.optionalString("company_id") ?? "", role: try r.string("role"),
            userId: try r.string("user_id"), label: try r.string("label"), secretPrefix: try r.string("secret_prefix"),
            createdAt: try r.timestamp("created_at"), expiresAt: try r.optionalTimestamp("expires_at"),
            lastUsedAt: try r.optionalTimestamp("last_used_at"), revoked: try r.bool("revoked"))
    }

    package static func require(_ db: SQLiteConnection, id: String) throws -> APIKeyRecord {
        guard let row = try db.query("SELECT \(columns) FROM api_keys WHERE id = ?", [.text(id)]).first else {
            throw TenantDataError.notFound("no API key '\(id)'")
        }
        return try key(row)
    }
}

extension APIKeyStore {
    /// Keys oldest first: a company's (`companyID`), or the operators' (nil); revoked ones only
    /// with `includeRevoked`; at most `limit` from `offset`.
    package static func list(
        _ db: SQLiteConnection, companyID: String?, includeRevoked: Bool, limit: Int64, offset: Int64
    ) throws -> [APIKeyRecord] {
        let company = companyID == nil ? "company_id IS NULL" : "company_id = ?"
        let revoked = includeRevoked ? "" : " AND revoked = 0"
        var arguments: [SQLiteValue] = companyID.map { [.text($0)] } ?? []
        arguments += [.integer(limit), .integer(offset)]
        return try db.query(
            "SELECT \(columns) FROM api_keys WHERE \(company)\(revoked) ORDER BY created_at, id LIMIT ? OFFSET ?", arguments
        ).map(key)
    }

    package static func revoke(_ db: SQLiteConnection, id: String) throws {
        try db.run("UPDATE api_keys SET revoked = 1 WHERE id = ?", [.text(id)])
    }

    /// Revokes every key acting for the user (the user was deactivated).
    package static func revokeAll(_ db: SQLiteConnection, companyID: String, userID: String) throws {
        try db.run("UPDATE api_keys SET revoked = 1 WHERE company_id = ? AND user_id = ? AND revoked = 0",
                   [.text(companyID), .text(userID)])
    }

    /// Gives every key acting for the user the user's new role (by name).
    package static func setRole(_ db: SQLiteConnection, companyID: String, userID: String, role: String) throws {
        try db.run("UPDATE api_keys SET role = ? WHERE company_id = ? AND user_id = ?",
                   [.text(role), .text(companyID), .text(userID)])
    }
}

extension APIKeyStore {
    /// What authenticating a key needs: its row and its company's state.
    package struct Credentials: Sendable {
        package var role: String
        /// Nil for an operator key.
        package var companyID: String?
        package var userID: String
        package var secretHash: [UInt8]
        package var expiresAt: Int64?
        package var revoked: Bool
        /// The company's suspension reason when it is suspended; nil when it is active (or its
        /// row is gone).
        package var suspension: String?
    }

    /// The key's credentials, or nil when there is no such key.
    package static func credentials(_ db: SQLiteConnection, keyID: String) throws -> Credentials? {
        guard let row = try db.query("""
            SELECT k.id AS id, k.role AS role, k.company_id AS company_id, k.user_id AS user_id, k.secret_hash AS secret_hash,
                   k.expires_at AS expires_at, k.revoked AS revoked, c.state AS state, c.suspension_reason AS suspension_reason
            FROM api_keys k LEFT JOIN companies c ON c.id = k.company_id WHERE k.id = ?
            """, [.text(keyID)]).first else { return nil }
        let r = RowReader(row, table: "api_keys")
        guard let hash = try r.optionalBytes("secret_hash") else { throw r.corrupt("secret_hash", "is NULL; it must be a blob") }
        let state: CompanyRecord.State? = try r.optionalString("state") == nil ? nil : r.value("state")
        let suspension: String? = state == .suspended ? (try r.optionalString("suspension_reason") ?? "") : nil
        return Credentials(
            role: try r.string("role"), companyID: try r.optionalString("company_id"), userID: try r.string("user_id"),
            secretHash: hash, expiresAt: try r.optionalInt64("expires_at"), revoked: try r.bool("revoked"),
            suspension: suspension)
    }
}
