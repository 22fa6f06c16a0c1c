public import Crypto
import Foundation

/// Finds the server's secret key: the `MAILSYNC_SECRET_KEY` environment variable (base64 of 32
/// bytes) if set, otherwise `<dataDirectory>/secret.key`, created with mode 0600 on first start.
///
/// A key file readable by group or others is refused (fix with `chmod 600`), as is one of the
/// wrong size. Losing the key makes stored mailbox secrets unreadable: back it up apart from the
/// data. The control database keeps a check value sealed with the key (``SecretKeyCheck``), so a
/// missing or different key stops the server at start instead of failing every mailbox.
public enum SecretKeyStore {
    public static let environmentVariable = "MAILSYNC_SECRET_KEY"
    public static let fileName = "secret.key"

    /// - Parameter mayCreate: whether a missing key file may be created with a new key. Pass
    ///   false once secrets have been sealed (the control database's key check says so): a new
    ///   key then would silently make every stored secret unreadable, so a missing file is an
    ///   error saying how to restore it.
    public static func load(
        dataDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment, mayCreate: Bool = true
    ) throws -> SymmetricKey {
        if let encoded = environment[environmentVariable] {
            guard let bytes = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
                throw SecretBoxError("\(environmentVariable) must be the base64 of 32 random bytes (for example: openssl rand -base64 32)")
            }
            return SymmetricKey(data: bytes)
        }
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        if !mayCreate, access(path, F_OK) != 0 {
            throw SecretBoxError(
                "the secret key file \(path) is missing, and this data directory holds secrets sealed with it (mailbox passwords, OAuth tokens). Restore the file from your backup (32 bytes, mode 0600), or set \(environmentVariable) to its base64; a new key would make every stored secret unreadable, so none is made")
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        if fd >= 0 {
            let key = SymmetricKey(size: .bits256)
            let bytes = key.withUnsafeBytes { Array($0) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let synced = fsync(fd)
            close(fd)
            guard written == 32, synced == 0 else {
                unlink(path)
                throw SecretBoxError("cannot write the secret key file \(path): \(String(cString: strerror(errno)))")
            }
            return key
        }
        guard errno == EEXIST else {
            throw SecretBoxError("cannot create the secret key file \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw SecretBoxError("the secret key file \(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SecretBoxError("the secret key file \(path) is readable by other users; run: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw SecretBoxError("the secret key file \(path) must hold exactly 32 bytes")
        }
        return SymmetricKey(data: data)
    }
}

/// A value sealed with the server's key and kept in the control database, so a start with a
/// missing or different key is refused before anything is read or sealed.
public enum SecretKeyCheck {
    static let plaintext = "mailsync secret key check v1"
    static let context = "control/secret-key-check"

    /// The check value for `box`'s key (random nonce: a new value each time).
    public static func seal(_ box: SecretBox) -> [UInt8] {
        box.seal(plaintext, context: context)
    }

    /// Whether `sealed` was made by ``seal(_:)`` with `box`'s key.
    public static func matches(_ sealed: [UInt8], _ box: SecretBox) -> Bool {
        (try? box.open(sealed, context: context)) == plaintext
    }

    /// A short public name for a key (16 hex digits of a SHA-256 over it), for messages and
    /// manifests: tells keys apart without revealing them.
    public static func fingerprint(_ key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { bytes in SHA256.hash(data: Array("mailsync key fingerprint".utf8) + Array(bytes)) }
        return digest.prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
