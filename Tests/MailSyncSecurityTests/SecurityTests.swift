import Crypto
import Foundation
import MailSyncSecurity
import Testing

@Suite("Secrets at rest and API keys")
struct SecurityTests {
    let box = SecretBox(key: SymmetricKey(size: .bits256))

    @Test("a sealed secret opens in its context and holds no clear text")
    func roundTrip() throws {
        let sealed = box.seal("hunter2-ünïcode", context: "tenant/a/mailbox/1/password")
        #expect(try box.open(sealed, context: "tenant/a/mailbox/1/password") == "hunter2-ünïcode")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("hunter2"))
        // Same plaintext twice: different ciphertexts (random nonce).
        #expect(sealed != box.seal("hunter2-ünïcode", context: "tenant/a/mailbox/1/password"))
    }

    @Test("moved, altered, truncated or foreign-key values do not open", arguments: ["context", "flip", "truncate", "key"])
    func refuses(_ how: String) {
        var sealed = box.seal("secret", context: "tenant/a/mailbox/1/password")
        var context = "tenant/a/mailbox/1/password"
        var opener = box
        switch how {
        case "context": context = "tenant/b/mailbox/1/password"
        case "flip": sealed[sealed.count / 2] ^= 1
        case "truncate": sealed = Array(sealed.prefix(20))
        default: opener = SecretBox(key: SymmetricKey(size: .bits256))
        }
        #expect(throws: SecretBoxError.self) { try opener.open(sealed, context: context) }
    }

    @Test("the key file is made once with mode 0600, reused, and refused when too open")
    func keyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mskey-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try SecretKeyStore.load(dataDirectory: dir, environment: [:])
        let path = dir + "/secret.key"
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let second = try SecretKeyStore.load(dataDirectory: dir, environment: [:])
        #expect(first.withUnsafeBytes { Array($0) } == second.withUnsafeBytes { Array($0) })
        chmod(path, 0o644)
        #expect { try SecretKeyStore.load(dataDirectory: dir, environment: [:]) } throws: {
            "\($0)".contains("chmod 600")
        }
    }

    @Test("the environment variable wins and must be 32 bytes of base64")
    func environmentKey() throws {
        let raw = Data((0..<32).map { UInt8($0) })
        let key = try SecretKeyStore.load(dataDirectory: "/nonexistent", environment: ["MAILSYNC_SECRET_KEY": raw.base64EncodedString()])
        #expect(key.withUnsafeBytes { Data($0) } == raw)
        #expect(throws: SecretBoxError.self) {
            try SecretKeyStore.load(dataDirectory: "/nonexistent", environment: ["MAILSYNC_SECRET_KEY": "c2hvcnQ="])
        }
    }

    @Test("API keys parse back, match only their own hash, and reject malformed input")
    func apiKeys() {
        let key = APIKeySecret.generate()
        let parsed = APIKeySecret.parse(key.secret)
        #expect(parsed?.keyID == key.keyID)
        #expect(parsed?.matches(key.hash) == true)
        #expect(APIKeySecret.generate().matches(key.hash) == false)
        for bad in ["", "msk_", "Bearer x", "msk_ZZZZZZZZZZZZZZZZ_" + String(repeating: "a", count: 43), key.secret + "x"] {
            #expect(APIKeySecret.parse(bad)?.matches(key.hash) != true)
        }
    }
}
