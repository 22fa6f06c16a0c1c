/// Brings a file's schema up to date on open, through `PRAGMA user_version`.
///
/// Each pending step runs in its own `BEGIN IMMEDIATE` transaction that also sets `user_version`,
/// so a crash or a failed step leaves the file at the last completed version and the next open
/// resumes there. A file whose version is newer than ``latestVersion`` is refused with
/// ``StorageError/Kind/newerSchema`` and left untouched: an older binary must not write a schema
/// it does not know. Blocking: runs on the connection's thread.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// Checks the list is numbered 1, 2, 3, … Throws ``StorageError/Kind/invalidMigrations`` if not.
    public init(_ migrations: [Migration]) throws {
        for (index, migration) in migrations.enumerated() where migration.version != Int32(index + 1) {
            throw StorageError(
                kind: .invalidMigrations,
                message: "migration \"\(migration.name)\" is numbered \(migration.version) but is step \(index + 1): number migrations 1, 2, 3, … with no gaps"
            )
        }
        self.migrations = migrations
    }

    /// The newest schema version this build knows (0 for an empty list).
    public var latestVersion: Int32 { Int32(migrations.count) }

    /// Refuses a file newer than this build. Does not write.
    public func checkNotNewer(_ db: SQLiteConnection) throws {
        let current = try db.userVersion()
        if current > latestVersion {
            throw StorageError(
                kind: .newerSchema,
                message: "\(db.path) was written by a newer version of mailsync (schema \(current), this build knows up to \(latestVersion)); upgrade the server or restore a backup",
                path: db.path
            )
        }
    }

    /// Runs every step after the file's current version. Returns the versions before and after.
    @discardableResult
    public func migrate(_ db: SQLiteConnection) throws -> (from: Int32, to: Int32) {
        try checkNotNewer(db)
        let start = try db.userVersion()
        for migration in migrations where migration.version > start {
            try db.transaction(immediate: true) {
                // Re-read inside the write lock: another process may have migrated meanwhile.
                guard try db.userVersion() < migration.version else { return }
                do {
                    try migration.apply(db)
                } catch var error as StorageError {
                    error.message = "migration \(migration.version) (\(migration.name)) failed: \(error.message)"
                    throw error
                }
                try db.setUserVersion(migration.version)
            }
        }
        return (start, try db.userVersion())
    }
}
