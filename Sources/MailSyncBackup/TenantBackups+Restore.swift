import CSQLite
import Foundation
public import MailSyncStorage

extension TenantBackups {
    /// What ``restore(_:into:)`` did.
    public struct RestoreOutcome: Sendable {
        /// The backup now live.
        public var restored: BackupManifest
        /// A backup of the state the restore replaced (possibly the latest backup, if nothing had
        /// changed since), or `nil` when there was no database or it was too damaged to back up.
        public var previousState: BackupManifest?
        /// Where the replaced files were kept when they could not be backed up (damaged), else `nil`.
        public var damagedFileKeptAt: String?
    }

    /// Replaces a tenant's database with a backup.
    ///
    /// Steps: the backup must be `tenant`'s (`.wrongTenant` otherwise); it is verified in full
    /// (``verify(_:)``) into a staged file beside the live one and its schema must not be newer than
    /// the server's (`.newerSchema`). Only then is the tenant taken offline
    /// (``TenantPool/takeOffline(_:)``: calls in flight finish, new ones wait), the current files
    /// checkpointed and renamed aside (`tenant.sqlite.before-restore-<stamp>`), the staged file
    /// renamed into place and the directory synced — renames only, so the company is offline for
    /// milliseconds; then the tenant comes back online (the next open checks its stamp and migrates
    /// it if older) and the set-aside state is backed up as a safety copy
    /// (``RestoreOutcome/previousState``) and removed. Calls therefore see either the old database
    /// or the new one, never a mix.
    ///
    /// A refused or failed restore leaves the live database as it was. If the replaced database is
    /// too damaged to back up, its files stay beside the new one as
    /// `tenant.sqlite.before-restore-<stamp>` (and `-wal`), named in ``RestoreOutcome/damagedFileKeptAt``. Throws ``BackupError`` (also `.busy` while a backup or restore of the
    /// tenant runs) or ``StorageError`` (`.closed`, `.offline`) from the pool.
    public func restore(_ id: BackupID, into tenant: TenantID) async throws -> RestoreOutcome {
        guard id.tenant == tenant else {
            throw BackupError(.wrongTenant, "backup \(id) belongs to company \(id.tenant), not to company \(tenant); nothing was restored (restore one of \(tenant)'s own backups)")
        }
        return try await exclusively(tenant) {
            let folder = dataDirectory.tenantDirectory(tenant)
            let staged = folder + "/.restore-" + id.stamp + ".staged"
            defer {
                try? FileSystem.remove(staged)
                try? FileSystem.remove(staged + "-journal")
            }
            let latestSchema = pool.schemaVersion
            let manifest = try await BlockingThread.run("restore-verify") { [self] in
                try FileSystem.makeDirectories(folder)
                try? FileSystem.remove(staged)
                let (manifest, version) = try verifyNow(id, into: staged)
                guard version <= latestSchema else {
                    throw BackupError(.newerSchema, "backup \(id) has schema version \(version), newer than this server's \(latestSchema); restore it with a newer mailsync")
                }
                return manifest
            }
            let aside = try await pool.withTenantOffline(tenant) {
                try await BlockingThread.run("restore-swap") { [self] in
                    try swapIn(staged, tenant: tenant)
                }
            }
            // Back online: the replaced state, set aside, becomes the safety backup (compressing
            // it offline kept the company unreachable for half a minute per GiB).
            guard let aside else { return RestoreOutcome(restored: manifest, previousState: nil, damagedFileKeptAt: nil) }
            return try await BlockingThread.run("restore-safety-backup") { [self] in
                var outcome = RestoreOutcome(restored: manifest, previousState: nil, damagedFileKeptAt: nil)
                do {
                    outcome.previousState = try backupNow(tenant, force: false, file: aside).manifest
                    try? FileSystem.remove(aside)
                    try? FileSystem.remove(aside + "-wal")
                    try? FileSystem.remove(aside + "-shm")
                } catch let error as BackupError where error.kind == .damaged || error.kind == .wrongTenant {
                    outcome.damagedFileKeptAt = aside
                }
                return outcome
            }
        }
    }

    /// With the tenant offline: the live files set aside (checkpointed first, so the file alone
    /// holds their state), then the staged file renamed into place. Fast: renames only. Returns
    /// where the replaced database now is (`tenant.sqlite.before-restore-<stamp>`), nil when there
    /// was none. Blocking.
    private func swapIn(_ staged: String, tenant: TenantID) throws -> String? {
        let live = dataDirectory.tenantDatabasePath(tenant)
        let folder = dataDirectory.tenantDirectory(tenant)
        var aside: String?
        if FileSystem.exists(live) {
            Self.checkpoint(live)
            let kept = live + ".before-restore-" + BackupID(tenant: tenant, microseconds: now()).stamp
            try FileSystem.rename(live, kept)
            if FileSystem.exists(live + "-wal") { try FileSystem.rename(live + "-wal", kept + "-wal") }
            aside = kept
        }
        // The old log must go before the new file arrives: SQLite would replay it into the new one.
        try FileSystem.remove(live + "-wal")
        try FileSystem.remove(live + "-shm")
        try FileSystem.remove(live + "-journal")
        try FileSystem.syncDirectory(folder)
        try FileSystem.rename(staged, live)
        try FileSystem.syncDirectory(folder)
        return aside
    }

    /// Copies the `-wal` into the file and empties it, so the file alone is the current state
    /// (best effort: the safety copy already holds that state).
    private static func checkpoint(_ path: String) {
        guard let db = try? RawDatabase(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW) else { return }
        try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    }
}
