import Foundation
import MailSyncTenantData

/// base64url (RFC 4648 §5) without padding, as JWTs use it: decoding only (ID token claims).
enum Base64URL {
    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
