import Crypto
import Foundation

/// Random tokens and PKCE (RFC 7636, S256) for OAuth sign-ins.
public enum OAuthPKCE {
    /// 32 random bytes (from the system's CSPRNG) as unpadded base64url: 43 characters, all
    /// unreserved, so usable as a `state` and as a code verifier.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return base64URL(Data(bytes))
    }

    /// The S256 code challenge of `verifier`: BASE64URL(SHA256(verifier)).
    public static func challenge(_ verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
