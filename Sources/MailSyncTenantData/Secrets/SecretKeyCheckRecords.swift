import Crypto
import Foundation
import MailSyncSecurity
import MailSyncStorage

/// The control database's `secret_key_check` row: proof of which key sealed the stored secrets.
package enum SecretKeyCheckRecords {
    package struct Stored: Sendable {
        package var sealed: [UInt8]
        package var fingerprint: String
    }

    package static func read(_ db: SQLiteConnection) throws -> Stored? {
        guard let row = try db.query("SELECT id, sealed, fingerprint FROM secret_key_check WHERE id = 1").first else { return nil }
        let r = RowReader(row, table: "secret_key_check")
        guard let sealed = try r.optionalBytes("sealed") else { throw r.corrupt("sealed", "is NULL; it must be a blob") }
        return Stored(sealed: sealed, fingerprint: try r.string("fingerprint"))
    }

    /// Writes (or replaces) the row for `key`.
    package static func write(_ db: SQLiteConnection, key: SymmetricKeyBytes, now: Int64) throws {
        let box = SecretBox(key: key.symmetricKey)
        try db.run(
            "INSERT OR REPLACE INTO secret_key_check(id, sealed, fingerprint, created_at) VALUES (1, ?, ?, ?)",
            [.blob(SecretKeyCheck.seal(box)), .text(SecretKeyCheck.fingerprint(key.symmetricKey)), .integer(now)])
    }

    /// Checks `key` against the row, or writes the row when there is none (first start, or the
    /// first start of this version on an existing directory: the key in use then is the one).
    ///
    /// - Throws: `SecretBoxError` saying which key was expected and how to restore it.
    package static func verifyOrRecord(control: ControlDatabase, key: SymmetricKeyBytes, source: String, now: Int64) async throws {
        let stored = try await control.read { try read($0) }
        guard let stored else {
            try await control.write { try write($0, key: key, now: now) }
            return
        }
        guard SecretKeyCheck.matches(stored.sealed, SecretBox(key: key.symmetricKey)) else {
            throw SecretKeyMismatch(expected: stored.fingerprint, found: SecretKeyCheck.fingerprint(key.symmetricKey), source: source)
        }
    }
}

/// 32 key bytes that can cross concurrency domains (`SymmetricKey` is not `Sendable` here).
package struct SymmetricKeyBytes: Sendable {
    let bytes: [UInt8]
    package init(_ key: SymmetricKey) { bytes = key.withUnsafeBytes { Array($0) } }
    package var symmetricKey: SymmetricKey { SymmetricKey(data: bytes) }
}

/// The key found is not the one the stored secrets were sealed with.
public struct SecretKeyMismatch: Error, CustomStringConvertible, Sendable {
    public let expected: String
    public let found: String
    public let source: String

    public var description: String {
        "the secret key in \(source) (fingerprint \(found)) is not the one this data directory's secrets were sealed with (fingerprint \(expected)). "
            + "Restore the right key (the secret.key file from your backup, or MAILSYNC_SECRET_KEY as it was) and start again; "
            + "starting with another key would make every stored mailbox password and token unreadable. "
            + "To change keys on purpose, run `mailsync keys rotate-secret` with the old key in place."
    }
}
