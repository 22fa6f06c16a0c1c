import Foundation
import MailSyncTenantData

/// The claims of an OpenID Connect ID token that name the signed-in account.
///
/// The token comes straight from the provider's token endpoint over TLS in answer to our own
/// request, so its signature is not checked (OpenID Connect Core §3.1.3.7 allows this for the
/// code flow); only its payload is read. Limits: at most 16 KiB; a token that is not three
/// base64url parts with a JSON object in the middle gives nil.
struct IDTokenClaims: Sendable {
    var email: String?
    /// `email_verified`: true only when the provider says so (a JSON true or "true").
    var emailVerified: Bool
    /// Microsoft puts the sign-in name here (often the address) when `email` is absent.
    var preferredUsername: String?
    var subject: String?

    init?(_ token: String) {
        guard token.utf8.count <= 16 << 10 else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Base64URL.decode(parts[1]),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        email = object["email"] as? String
        emailVerified = (object["email_verified"] as? Bool) ?? ((object["email_verified"] as? String)?.lowercased() == "true")
        preferredUsername = object["preferred_username"] as? String
        subject = object["sub"] as? String
    }

    /// `email` when the provider verified it, else a `preferred_username` that looks like an
    /// address (the account's sign-in name, which Microsoft's tokens carry instead). An
    /// unverified `email` is never used: anyone can put any address on an account.
    var address: String? {
        if let email, !email.isEmpty, emailVerified { return email }
        if let preferredUsername, preferredUsername.contains("@") { return preferredUsername }
        return nil
    }
}
