import Crypto
import Foundation

/// The secret a caller sends in the `authorization` metadata: `msk_<key id>_<random>`.
///
/// The key id (16 hex characters) is public and finds the key's row; the random part is 32 bytes
/// from the system's secure generator, base64url. Only the SHA-256 of the whole secret is stored
/// (a fast hash is right for 256 bits of entropy: there is nothing to brute-force), and it is
/// compared in constant time.
public struct APIKeySecret: Sendable, Hashable {
    public let keyID: String
    public let secret: String

    /// A new key.
    public static func generate() -> APIKeySecret {
        var idBytes = [UInt8](repeating: 0, count: 8)
        var secretBytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in idBytes.indices { idBytes[i] = generator.next() }
        for i in secretBytes.indices { secretBytes[i] = generator.next() }
        let keyID = idBytes.map { String(format: "%02x", $0) }.joined()
        let random = Data(secretBytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return APIKeySecret(keyID: keyID, secret: "msk_\(keyID)_\(random)")
    }

    /// Splits a presented secret; nil when it does not have the shape of one.
    public static func parse(_ presented: String) -> APIKeySecret? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "msk", parts[1].count == 16,
            parts[1].allSatisfy({ $0.isHexDigit && !$0.isUppercase }), (40...48).contains(parts[2].count)
        else { return nil }
        return APIKeySecret(keyID: String(parts[1]), secret: presented)
    }

    /// What is stored.
    public var hash: [UInt8] { Array(SHA256.hash(data: Data(secret.utf8))) }

    /// The first characters, to tell keys apart in listings.
    public var prefix: String { String(secret.prefix(12)) }

    /// Whether this secret hashes to `storedHash`, compared in constant time.
    public func matches(_ storedHash: [UInt8]) -> Bool {
        let mine = hash
        guard mine.count == storedHash.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(mine, storedHash) { difference |= a ^ b }
        return difference == 0
    }
}
