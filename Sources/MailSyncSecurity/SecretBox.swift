public import Crypto
import Foundation

/// Encrypts secrets at rest (mailbox passwords, OAuth tokens) with AES-256-GCM.
///
/// A sealed secret is `version (1 byte, 0x01) | nonce (12) | ciphertext | tag (16)`. The `context`
/// (for example `tenant/<id>/mailbox/<id>/password`) is authenticated but not stored: a sealed
/// value copied to another row, tenant or field fails to open. Opening fails on any tampering.
public struct SecretBox: Sendable {
    /// The key's bytes (SymmetricKey is not Sendable in this swift-crypto).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// - Parameter key: 32 bytes.
    public init(key: SymmetricKey) {
        precondition(key.bitCount == 256, "SecretBox needs a 256-bit key")
        self.keyBytes = key.withUnsafeBytes { Array($0) }
    }

    static let version: UInt8 = 1

    public func seal(_ plaintext: String, context: String) -> [UInt8] {
        // AES.GCM.seal only throws for invalid key sizes, excluded by the initializer.
        let box = try! AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Data(context.utf8))
        return [Self.version] + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
    }

    /// - Throws: `SecretBoxError` when the value is malformed, was sealed under another key or
    ///   context, or was altered.
    public func open(_ sealed: [UInt8], context: String) throws -> String {
        guard sealed.count >= 1 + 12 + 16, sealed[0] == Self.version else {
            throw SecretBoxError("a stored secret is malformed (unknown format or truncated)")
        }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed[1..<13]),
                ciphertext: sealed[13..<(sealed.count - 16)],
                tag: sealed[(sealed.count - 16)...])
            let plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
            return String(decoding: plain, as: UTF8.self)
        } catch {
            throw SecretBoxError(
                "a stored secret could not be decrypted: the server's secret key changed, or the value was moved or altered")
        }
    }
}

public struct SecretBoxError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
