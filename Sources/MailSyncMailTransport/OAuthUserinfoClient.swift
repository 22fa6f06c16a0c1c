import Foundation
import MailSyncErrors

/// Asks a provider's OpenID Connect userinfo endpoint (OpenID Connect Core §5.3) which address an
/// access token belongs to: a GET with `Authorization: Bearer <token>` through libcurl on its own
/// ``CurlThread``. Used when a token answer carries no ID token naming the address.
///
/// Limits and failures: `https://` only (`http://` to a loopback host for tests); the answer may
/// be at most 64 KiB. A non-2xx status is `.oauth(OAuthTokenError(error: "HTTP <code>"))` with the
/// endpoint's `error` field when it gives one; an answer that is not a JSON object is
/// `invalid_response`; no connection is `.connection`. Nothing here logs: the request carries the
/// access token.
public enum OAuthUserinfoClient {
    /// What the endpoint says about the signed-in account.
    public struct Userinfo: Sendable, Equatable {
        /// The `email` claim, if any.
        public var email: String?
        /// The `email_verified` claim, if given.
        public var emailVerified: Bool?

        public init(email: String?, emailVerified: Bool?) {
            self.email = email
            self.emailVerified = emailVerified
        }

        /// `email` unless the provider said it is not verified.
        public var verifiedEmail: String? {
            guard let email, !email.isEmpty, emailVerified != false else { return nil }
            return email
        }
    }

    /// - Parameters:
    ///   - timeout: the whole request, connect included. Default 30 s.
    ///   - caFile: a PEM bundle trusted instead of the system's (private endpoints).
    ///   - policy: where the request may go (default: public addresses only).
    public static func userinfo(
        endpoint: String, accessToken: String, timeout: Duration = .seconds(30), caFile: String? = nil,
        policy: OutboundPolicy = .standard
    ) async throws(OAuthTokenClientError) -> Userinfo {
        let request = CurlHTTP.Request(
            url: endpoint, body: nil, headers: ["Accept: application/json", "Authorization: Bearer \(accessToken)"],
            timeout: timeout, caFile: caFile, maxResponseBytes: 64 << 10, policy: policy)
        let answer = try await CurlHTTP.send(request)
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any]
        guard (200..<300).contains(answer.status) else {
            throw OAuthTokenClientError(.oauth(OAuthTokenError(
                error: object?["error"] as? String ?? "HTTP \(answer.status)",
                errorDescription: object?["error_description"] as? String, httpStatus: answer.status, retryAfter: answer.retryAfter)))
        }
        guard let object else {
            throw OAuthTokenClientError(.oauth(OAuthTokenError(
                error: "invalid_response", errorDescription: "the userinfo answer is not a JSON object", httpStatus: answer.status)))
        }
        return Userinfo(email: object["email"] as? String, emailVerified: object["email_verified"] as? Bool)
    }
}
