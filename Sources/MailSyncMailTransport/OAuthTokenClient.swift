import Foundation
import MailSyncErrors

/// Talks to an OAuth 2.0 token endpoint (RFC 6749 §3.2): the authorization-code exchange with PKCE
/// (RFC 7636) and the refresh grant (§6), as `application/x-www-form-urlencoded` POSTs through
/// libcurl, each on its own ``CurlThread`` (never on Swift's cooperative pool).
///
/// The client authenticates with `client_id` and `client_secret` in the form body
/// (`client_secret_post`, what Google and Microsoft accept). Nothing here logs: the request carries
/// the client secret and a code or refresh token, the answer carries tokens.
///
/// Limits and failures:
/// - `https://` only, except `http://` to a loopback host (`127.0.0.1`, `::1`, `localhost`), for
///   tests and local proxies; redirects are not followed.
/// - The answer may be at most 256 KiB; a larger or unreadable success answer is
///   `OAuthTokenError(error: "invalid_response")` (an operator problem).
/// - A JSON error object (`{"error": "invalid_grant"}`) becomes `.oauth(OAuthTokenError)` with the
///   HTTP status and any `Retry-After`; an error status without one becomes `error: "HTTP <code>"`
///   (5xx and 429: temporary). A connection that cannot be made or breaks is `.connection`.
public enum OAuthTokenClient {
    /// The server's OAuth client at a provider.
    public struct Client: Sendable {
        public var id: String
        public var secret: String

        public init(id: String, secret: String) {
            self.id = id
            self.secret = secret
        }
    }

    /// What to trade for tokens.
    public enum Grant: Sendable {
        /// The code from the provider's redirect, with the same `redirect_uri` and the PKCE verifier
        /// whose S256 challenge the authorization request carried.
        case authorizationCode(code: String, redirectURI: String, codeVerifier: String)
        /// A refresh token; `scope` is sent again when given (Microsoft requires it).
        case refreshToken(String, scope: String?)
    }

    /// Asks `endpoint` for tokens.
    ///
    /// - Parameters:
    ///   - timeout: the whole exchange, connect included. Default 30 s.
    ///   - caFile: a PEM bundle trusted instead of the system's (private endpoints).
    ///   - policy: where the request may go (default: public addresses only).
    /// - Throws: ``OAuthTokenClientError`` (classified with `MailErrorClassifier`).
    public static func requestToken(
        endpoint: String, grant: Grant, client: Client, timeout: Duration = .seconds(30), caFile: String? = nil,
        policy: OutboundPolicy = .standard
    ) async throws(OAuthTokenClientError) -> OAuthTokenResponse {
        var form: [(String, String)] = []
        switch grant {
        case .authorizationCode(let code, let redirectURI, let verifier):
            form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        case .refreshToken(let token, let scope):
            form = [("grant_type", "refresh_token"), ("refresh_token", token)]
            if let scope, !scope.isEmpty { form.append(("scope", scope)) }
        }
        form += [("client_id", client.id), ("client_secret", client.secret)]
        let request = CurlHTTP.Request(
            url: endpoint, body: FormEncoding.encode(form), headers: ["Accept: application/json"], timeout: timeout,
            caFile: caFile, maxResponseBytes: 256 << 10, policy: policy)
        let result = try await CurlHTTP.send(request)
        return try OAuthTokenResponse.parse(status: result.status, body: result.body, retryAfter: result.retryAfter)
    }
}

/// A failed token request: the endpoint's error object or the connection's failure.
public struct OAuthTokenClientError: Error, Sendable, CustomStringConvertible {
    /// `.oauth` (the endpoint answered with an error) or `.connection` (no answer).
    public var failure: MailFailure

    /// When the outbound policy refused the endpoint: which address and why (operator's log only).
    public var policyRefusal: OutboundPolicy.Refusal?

    public init(_ failure: MailFailure, policyRefusal: OutboundPolicy.Refusal? = nil) {
        self.failure = failure
        self.policyRefusal = policyRefusal
    }

    public var diagnosis: Diagnosis { MailErrorClassifier.classify(failure) }

    /// The endpoint's `error` field, if it answered with one (`invalid_grant`, …).
    public var oauthError: String? {
        if case .oauth(let error) = failure { return error.error }
        return nil
    }

    /// Never holds a token: only the endpoint's error words or the system's.
    public var description: String { "OAuth token request failed: \(diagnosis.serverText)" }
}

/// `application/x-www-form-urlencoded` (and URL query) encoding: unreserved characters stay,
/// everything else is percent-encoded as UTF-8 (space as `%20`).
public enum FormEncoding {
    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if unreserved.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }
}
