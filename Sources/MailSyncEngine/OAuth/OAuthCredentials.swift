import Foundation
import MailSyncSecurity
import MailSyncStorage
import MailSyncTenantData

/// What an OAuth mailbox's sealed secret holds: its tokens and when the access token expires.
///
/// Sealed with `SecretBox` under the same context as a password
/// (`tenant/<tenant>/mailbox/<id>/secret`), stored in the mailbox's `secret` column, never
/// logged, never returned, wiped on disable. `description` shows no token.
package struct OAuthCredentials: Codable, Sendable, Equatable, CustomStringConvertible {
    package var accessToken: String
    /// Nil when the provider gave none (then the mailbox must sign in again once the access
    /// token expires).
    package var refreshToken: String?
    /// When the access token stops working (µs since the epoch, by the server's clock).
    package var expiresAt: Int64
    /// The scopes granted, as the token endpoint said.
    package var scope: String?

    package init(accessToken: String, refreshToken: String?, expiresAt: Int64, scope: String?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
        self.scope = scope
    }

    /// Lifetime assumed when the token endpoint gives no `expires_in`: one hour.
    package static let defaultLifetime: Int64 = 3600

    package var description: String { "OAuthCredentials(expiresAt: \(expiresAt), refreshToken: \(refreshToken == nil ? "no" : "yes"))" }

    package func seal(_ box: SecretBox, context: String) -> [UInt8] {
        let json = (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return box.seal(json, context: context)
    }

    /// - Throws: when the secret cannot be opened or is not OAuth credentials (e.g. a password).
    package static func open(_ sealed: [UInt8], box: SecretBox, context: String) throws -> OAuthCredentials {
        let json = try box.open(sealed, context: context)
        return try JSONDecoder().decode(OAuthCredentials.self, from: Data(json.utf8))
    }
}
