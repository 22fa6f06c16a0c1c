public import Crypto
public import Foundation

/// The key that seals backups in the bucket (``BackupSealer``): 32 random bytes, kept apart
/// from the data and from the bucket.
///
/// Loaded from `MAILSYNC_BACKUP_KEY` (base64 of 32 bytes) or from a file of exactly 32 bytes
/// (mode 0600, setting `backupKeyFile`). There is no default inside the data directory on
/// purpose: a lost machine must not take the only copy with it. `mailsync keys create-backup-key`
/// writes a new one. The fingerprint (first 16 bytes of a SHA-256 of the key under a label of
/// its own) is safe to show and is recorded with every sealed object.
public struct BackupKey: Sendable {
    public static let environmentVariable = "MAILSYNC_BACKUP_KEY"

    /// The key's bytes (SymmetricKey is not Sendable in this swift-crypto).
    private let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }
    public let fingerprint: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else { throw BackupSealError("a backup key is 32 bytes; this one has \(bytes.count)") }
        self.bytes = bytes
        var hasher = SHA256()
        hasher.update(data: Array("mailsync backup key fingerprint v1".utf8))
        hasher.update(data: bytes)
        fingerprint = Array(hasher.finalize().prefix(16))
    }

    /// A new random key.
    public static func generate() -> BackupKey {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return try! BackupKey(bytes: bytes)  // 32 bytes by construction
    }

    /// The key's bytes as base64, for `MAILSYNC_BACKUP_KEY` (show only to the operator creating it).
    public var base64: String { Data(bytes).base64EncodedString() }

    /// The fingerprint in hex, safe to log and show.
    public var fingerprintHex: String { Self.hex(fingerprint) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The environment variable if set, else the file at `path` if given, else nil.
    ///
    /// - Throws: ``BackupSealError`` naming the variable or file and what is wrong (size,
    ///   permissions, unreadable).
    public static func load(file path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BackupKey? {
        if let encoded = environment[environmentVariable] {
            guard let bytes = Data(base64Encoded: encoded.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
                throw BackupSealError("\(environmentVariable) must be the base64 of 32 random bytes (mailsync keys create-backup-key makes one)")
            }
            return try BackupKey(bytes: Array(bytes))
        }
        guard let path else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BackupSealError("cannot read the backup key file \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw BackupSealError("the backup key file \(path) is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw BackupSealError("the backup key file \(path) is readable by other users; run: chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw BackupSealError("the backup key file \(path) must hold exactly 32 bytes")
        }
        return try BackupKey(bytes: Array(data))
    }

    /// Writes a new key to `path` (created, mode 0600; an existing file is never replaced).
    public static func create(file path: String) throws -> BackupKey {
        let key = generate()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw BackupSealError("cannot create the backup key file \(path): \(String(cString: strerror(errno)))\(errno == EEXIST ? " (a key is never replaced; choose another path)" : "")")
        }
        let bytes = key.bytes
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == 32, synced == 0 else {
            unlink(path)
            throw BackupSealError("cannot write the backup key file \(path)")
        }
        return key
    }
}
