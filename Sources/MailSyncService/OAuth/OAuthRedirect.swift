import Foundation
import MailSyncMailTransport
import MailSyncTenantData

/// The authorization URL a browser opens, and the checks on URLs the server is given.
enum OAuthRedirect {
    /// An absolute `https://` URL with a host and no fragment, or `http://` to a loopback host
    /// (RFC 8252 §7.3, native apps and tests); at most 2,000 characters, no spaces or controls.
    static func isAcceptable(_ value: String) -> Bool {
        guard value.count <= 2000, !value.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }),
            let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, components.fragment == nil
        else { return false }
        if scheme == "https" { return true }
        return scheme == "http" && ["127.0.0.1", "::1", "localhost"].contains(host.lowercased())
    }

    /// `endpoint?client_id=…&redirect_uri=…&response_type=code&scope=…&state=…&code_challenge=…
    /// &code_challenge_method=S256[&login_hint=…]` plus the provider's extra parameters, every
    /// value percent-encoded.
    static func authorizationURL(
        endpoint: String, clientID: String, redirectURI: String, scope: String, state: String, codeChallenge: String,
        loginHint: String?, extra: [(String, String)]
    ) -> String {
        var pairs: [(String, String)] = [
            ("client_id", clientID), ("redirect_uri", redirectURI), ("response_type", "code"), ("scope", scope),
            ("state", state), ("code_challenge", codeChallenge), ("code_challenge_method", "S256"),
        ]
        pairs += extra
        if let loginHint, !loginHint.isEmpty { pairs.append(("login_hint", loginHint)) }
        let separator = endpoint.contains("?") ? "&" : "?"
        return endpoint + separator + FormEncoding.encode(pairs)
    }
}
