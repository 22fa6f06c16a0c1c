import Foundation
import MailSyncErrors

/// A token endpoint's successful answer (RFC 6749 §5.1; OpenID Connect adds `id_token`).
///
/// `description` never shows a token.
public struct OAuthTokenResponse: Sendable, CustomStringConvertible {
    public var accessToken: String
    /// Usually `Bearer`.
    public var tokenType: String?
    /// Seconds the access token lives, if the endpoint said.
    public var expiresIn: Int?
    /// A new refresh token: always on a code exchange with offline access; on a refresh only when
    /// the provider rotates them (Microsoft) — then the old one must be replaced.
    public var refreshToken: String?
    public var scope: String?
    /// An OpenID Connect ID token (a JWT) when `openid` was asked for.
    public var idToken: String?

    public init(accessToken: String, tokenType: String? = nil, expiresIn: Int? = nil, refreshToken: String? = nil,
                scope: String? = nil, idToken: String? = nil) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.scope = scope
        self.idToken = idToken
    }

    public var description: String {
        "OAuthTokenResponse(expiresIn: \(expiresIn.map(String.init) ?? "-"), refreshToken: \(refreshToken == nil ? "no" : "yes"), idToken: \(idToken == nil ? "no" : "yes"), scope: \(scope ?? "-"))"
    }

    /// Reads an HTTP answer: 2xx with a JSON object holding `access_token` is a success; an error
    /// status with a JSON `error` field is that error; anything else is `HTTP <code>` or
    /// `invalid_response`.
    static func parse(status: Int, body: [UInt8], retryAfter: Duration?) throws(OAuthTokenClientError) -> OAuthTokenResponse {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        if (200..<300).contains(status) {
            guard let object, let token = object["access_token"] as? String, !token.isEmpty else {
                throw OAuthTokenClientError(.oauth(OAuthTokenError(
                    error: "invalid_response", errorDescription: "the token endpoint answered \(status) without an access_token",
                    httpStatus: status)))
            }
            var expiresIn: Int?
            if let number = object["expires_in"] as? NSNumber { expiresIn = number.intValue }
            else if let text = object["expires_in"] as? String { expiresIn = Int(text) }
            return OAuthTokenResponse(
                accessToken: token, tokenType: object["token_type"] as? String, expiresIn: expiresIn,
                refreshToken: (object["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                scope: object["scope"] as? String, idToken: object["id_token"] as? String)
        }
        if let object, let error = object["error"] as? String, !error.isEmpty {
            let description = (object["error_description"] as? String).map { String($0.prefix(500)) }
            throw OAuthTokenClientError(.oauth(OAuthTokenError(
                error: String(error.prefix(100)), errorDescription: description, httpStatus: status, retryAfter: retryAfter)))
        }
        throw OAuthTokenClientError(.oauth(OAuthTokenError(error: "HTTP \(status)", httpStatus: status, retryAfter: retryAfter)))
    }
}
