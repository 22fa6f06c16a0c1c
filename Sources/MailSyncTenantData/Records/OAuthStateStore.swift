import Crypto
import Foundation
import MailSyncCoding
import MailSyncSecurity
import MailSyncStorage

/// OAuth sign-ins started with `StartOAuthConnection` and not yet completed, kept in the
/// company's own database (`oauth_states`, tenant schema v5), so a sign-in survives a restart or
/// a deploy: the random `state` handed to the browser maps to whose mailbox is being connected and
/// the PKCE verifier, which never leaves the server.
///
/// At rest the state is kept only as its SHA-256 (it is a bearer secret in a URL) and the verifier
/// sealed with the server's key (``SecretBox``, bound to the company and the state). A state lives
/// ``lifetime`` (10 minutes) and is good for one ``take(_:state:now:secrets:tenant:)``: taken states
/// are gone whether or not the completion then succeeds. At most ``maxPendingPerCompany`` states
/// are kept per company; starting beyond that drops the oldest. Another company's state is simply
/// not in this company's file: "unknown", like one never made.
package enum OAuthStateStore {
    package struct Pending: Sendable {
        /// Who started the flow (for the log) and whose mailbox it connects.
        package var startedBy: String
        package var userID: String
        package var provider: MailboxRecord.Provider
        package var redirectURI: String
        package var codeVerifier: String
        package var expiresAt: Timestamp

        package init(
            startedBy: String, userID: String, provider: MailboxRecord.Provider, redirectURI: String, codeVerifier: String,
            expiresAt: Timestamp
        ) {
            self.startedBy = startedBy
            self.userID = userID
            self.provider = provider
            self.redirectURI = redirectURI
            self.codeVerifier = codeVerifier
            self.expiresAt = expiresAt
        }
    }

    package enum TakeError: Error, Equatable {
        case unknown, expired
    }

    package static let lifetime: Int64 = 10 * 60 * 1_000_000
    package static let maxPendingPerCompany = 200

    /// Stores a new sign-in under a fresh state; returns the state (43 characters of base64url,
    /// 256 random bits). Runs in the caller's write transaction.
    package static func start(_ db: SQLiteConnection, _ entry: Pending, now: Timestamp, secrets: SecretBox, tenant: TenantID) throws -> String {
        // Expired rows stay one more lifetime, so a late completion hears "expired", not "unknown".
        try db.run("DELETE FROM oauth_states WHERE expires_at < ?", [.integer(now.microsecondsSinceEpoch - lifetime)])
        let count = try db.scalar("SELECT count(*) FROM oauth_states")?.int64 ?? 0
        if count >= Int64(maxPendingPerCompany) {
            try db.run("""
                DELETE FROM oauth_states WHERE state_hash IN
                    (SELECT state_hash FROM oauth_states ORDER BY created_at, state_hash LIMIT ?)
                """, [.integer(count - Int64(maxPendingPerCompany) + 1)])
        }
        let state = OAuthPKCE.randomToken()
        let hash = stateHash(state)
        try db.run("""
            INSERT INTO oauth_states(state_hash, started_by, user_id, provider, redirect_uri, verifier, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(hash), .text(entry.startedBy), .text(entry.userID), .text(entry.provider.stored),
                  .text(entry.redirectURI), .blob(secrets.seal(entry.codeVerifier, context: secretContext(tenant: tenant, hash: hash))),
                  .integer(now.microsecondsSinceEpoch), .integer(entry.expiresAt.microsecondsSinceEpoch)])
        return state
    }

    /// The sign-in `state` stands for, deleted so it cannot be used again. `unknown` for states
    /// never made, already taken, another company's, or whose verifier cannot be opened;
    /// `expired` for one older than ``lifetime``. Runs in the caller's write transaction.
    ///
    /// `authorize` sees who started the sign-in and for whom before anything is deleted: when it
    /// throws (the caller may not complete this sign-in), the state stays for its rightful user.
    package static func take(
        _ db: SQLiteConnection, state: String, now: Timestamp, secrets: SecretBox, tenant: TenantID,
        authorize: (_ startedBy: String, _ userID: String) throws -> Void = { _, _ in }
    ) throws -> Result<Pending, TakeError> {
        let hash = stateHash(state)
        let rows = try db.query(
            "SELECT started_by, user_id, provider, redirect_uri, verifier, expires_at FROM oauth_states WHERE state_hash = ?", [.text(hash)])
        guard let row = rows.first else { return .failure(.unknown) }
        let r = RowReader(row, table: "oauth_states")
        let (startedBy, userID) = (try r.string("started_by"), try r.string("user_id"))
        try authorize(startedBy, userID)
        try db.run("DELETE FROM oauth_states WHERE state_hash = ?", [.text(hash)])
        let expiresAt = try r.timestamp("expires_at")
        guard now < expiresAt else { return .failure(.expired) }
        guard let sealed = try r.optionalBytes("verifier"),
              let verifier = try? secrets.open(sealed, context: secretContext(tenant: tenant, hash: hash)) else {
            return .failure(.unknown)
        }
        return .success(Pending(
            startedBy: startedBy, userID: userID, provider: try r.value("provider"),
            redirectURI: try r.string("redirect_uri"), codeVerifier: verifier, expiresAt: expiresAt))
    }

    package static func stateHash(_ state: String) -> String {
        SHA256.hash(data: Array(state.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    package static func secretContext(tenant: TenantID, hash: String) -> String {
        "oauth-state:\(tenant):\(hash)"
    }
}
