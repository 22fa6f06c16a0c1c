import Crypto
import Foundation
import Logging
import MailSyncSecurity
import MailSyncStorage

#if canImport(Glibc)
import Glibc
#endif

/// `mailsync keys rotate-secret`: every sealed secret of every company re-sealed under a new key,
/// offline (the data directory's lock must be free: stop the server first).
///
/// Resumable: the new key is written first to `secret.key.new` (mode 0600, fsynced) and reused if
/// it is already there; values that already open with the new key are left alone; the control
/// database's key check moves to the new key only after every company is done; the file is
/// renamed over `secret.key` last. A run stopped anywhere is finished by running it again, and
/// until the check moves the server still starts with the old key.
///
/// What is re-sealed: mailbox passwords and OAuth tokens (`mailboxes.secret`) and OAuth sign-ins
/// in progress (`oauth_states.verifier`). A value that opens with neither key (already damaged) is
/// counted and left as it is. Backups made before the rotation keep the old key's values: keep
/// the old key with them.
///
/// With `MAILSYNC_SECRET_KEY` set (no key file), the new key is left in `secret.key.new` for the
/// operator to move into the variable; the result says so.
public enum SecretKeyRotation {
    public struct Result: Sendable, CustomStringConvertible {
        public var companies = 0
        public var resealed = 0
        public var unreadable = 0
        public var oldFingerprint = ""
        public var newFingerprint = ""
        /// Set when the key lives in the environment: where the new key was left.
        public var newKeyFile: String?

        public var description: String {
            var text = "re-sealed \(resealed) secrets in \(companies) companies under the new key \(newFingerprint) (was \(oldFingerprint))"
            if unreadable > 0 { text += "; \(unreadable) could not be opened with either key and were left as they were" }
            if let newKeyFile {
                text += ". The key comes from \(SecretKeyStore.environmentVariable): set it to the base64 of \(newKeyFile) (base64 -w0 \(newKeyFile)), then delete that file"
            }
            return text
        }
    }

    public static func run(dataDirectory path: String, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) async throws -> Result {
        let directory = DataDirectory(path)
        let lock = try DataDirectoryLock.acquire(root: directory.root, purpose: "rotating the secret key")
        defer { lock.release() }
        let control = try await ControlDatabase.open(dataDirectory: directory, migrations: ControlMigrations.all, logger: logger)
        do {
            let result = try await rotate(directory, control: control, environment: environment, logger: logger)
            await control.close()
            return result
        } catch {
            await control.close()
            throw error
        }
    }

    private static func rotate(_ directory: DataDirectory, control: ControlDatabase, environment: [String: String], logger: Logger) async throws -> Result {
        let fromEnvironment = environment[SecretKeyStore.environmentVariable] != nil
        let oldKey = SymmetricKeyBytes(try SecretKeyStore.load(dataDirectory: directory.root, environment: environment, mayCreate: false))
        let newPath = directory.root + "/" + SecretKeyStore.fileName + ".new"
        let newKey = SymmetricKeyBytes(try loadOrCreateNewKey(newPath))
        let (old, new) = (SecretBox(key: oldKey.symmetricKey), SecretBox(key: newKey.symmetricKey))
        var result = Result(
            oldFingerprint: SecretKeyCheck.fingerprint(oldKey.symmetricKey), newFingerprint: SecretKeyCheck.fingerprint(newKey.symmetricKey))

        let stored = try await control.read { try SecretKeyCheckRecords.read($0) }
        let checkMovedAlready = stored.map { SecretKeyCheck.matches($0.sealed, new) } ?? false
        if !checkMovedAlready {
            if let stored, !SecretKeyCheck.matches(stored.sealed, old) {
                throw SecretKeyMismatch(expected: stored.fingerprint, found: result.oldFingerprint, source: fromEnvironment ? SecretKeyStore.environmentVariable : directory.root + "/" + SecretKeyStore.fileName)
            }
            let ids = try await control.read { db in try db.query("SELECT id FROM companies ORDER BY created_at, id").compactMap { $0[0].string } }
            let tenants = try TenantPool(dataDirectory: directory, migrations: TenantMigrations.all, capacity: 4, logger: logger)
            do {
                for id in ids {
                    guard let tenant = TenantID(validating: id) else { continue }
                    let (resealed, unreadable) = try await tenants.withTenant(tenant) { lease in
                        try await lease.write { db in try reseal(db, tenant: tenant, old: old, new: new) }
                    }
                    result.companies += 1
                    result.resealed += resealed
                    result.unreadable += unreadable
                }
            } catch {
                await tenants.close()
                throw error
            }
            await tenants.close()
            let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
            try await control.write { try SecretKeyCheckRecords.write($0, key: newKey, now: now) }
        }
        if fromEnvironment {
            result.newKeyFile = newPath
        } else {
            let keyPath = directory.root + "/" + SecretKeyStore.fileName
            guard rename(newPath, keyPath) == 0 else {
                throw SecretBoxError("cannot rename \(newPath) over \(keyPath): \(String(cString: strerror(errno))); run the rotation again")
            }
            let dir = open(directory.root, O_RDONLY | O_DIRECTORY)
            if dir >= 0 { _ = fsync(dir); close(dir) }
        }
        return result
    }

    /// Re-seals one company's values; returns (re-sealed, unreadable).
    private static func reseal(_ db: SQLiteConnection, tenant: TenantID, old: SecretBox, new: SecretBox) throws -> (Int, Int) {
        var resealed = 0
        var unreadable = 0
        func convert(_ sealed: [UInt8], context: String) -> [UInt8]? {
            if (try? new.open(sealed, context: context)) != nil { return nil }  // done in an earlier run
            guard let plain = try? old.open(sealed, context: context) else {
                unreadable += 1
                return nil
            }
            resealed += 1
            return new.seal(plain, context: context)
        }
        for row in try db.query("SELECT id, secret FROM mailboxes WHERE secret IS NOT NULL") {
            guard let id = row[0].string, let sealed = row[1].bytes,
                  let converted = convert(sealed, context: MailboxRecords.secretContext(tenant: tenant, mailboxID: id)) else { continue }
            try db.run("UPDATE mailboxes SET secret = ? WHERE id = ?", [.blob(converted), .text(id)])
        }
        for row in try db.query("SELECT state_hash, verifier FROM oauth_states") {
            guard let hash = row[0].string, let sealed = row[1].bytes,
                  let converted = convert(sealed, context: OAuthStateStore.secretContext(tenant: tenant, hash: hash)) else { continue }
            try db.run("UPDATE oauth_states SET verifier = ? WHERE state_hash = ?", [.blob(converted), .text(hash)])
        }
        return (resealed, unreadable)
    }

    /// The pending new key: read from `path` when a run was interrupted, else made and written.
    private static func loadOrCreateNewKey(_ path: String) throws -> SymmetricKey {
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw SecretBoxError("\(path) must hold exactly 32 bytes; delete it and run the rotation again") }
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SecretBoxError("cannot create \(path): \(String(cString: strerror(errno)))") }
        let bytes = key.withUnsafeBytes { Array($0) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == 32, synced == 0 else {
            unlink(path)
            throw SecretBoxError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
