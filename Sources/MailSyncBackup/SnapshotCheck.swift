import MailSyncStorage

/// Checks a database file copied out of, or about to go into, a tenant's place: that it is a Mail
/// Sync tenant file stamped for that tenant (``FileStamp``), its schema version, and SQLite's own
/// check of every page (`quick_check`, or the slower `integrity_check` that also checks indexes
/// against tables). Blocking; opens its own connection without WAL and closes it.
enum SnapshotCheck {
    enum Depth: String {
        case quick = "quick_check"
        case full = "integrity_check"
    }

    /// Returns the file's schema version (`user_version`). Throws `.wrongTenant` if it is another
    /// tenant's, `.damaged` if it fails the check or is not a tenant file.
    static func check(_ path: String, tenant: TenantID, depth: Depth, name: String) throws -> Int32 {
        var options = SQLiteConnection.Options()
        options.walMode = false
        options.statementCacheCapacity = 0
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path, mode: .open, options: options)
        } catch {
            throw BackupError(.damaged, "\(name) does not hold a readable database (\(error)); use another backup")
        }
        defer { db.close() }
        do {
            try FileStamp.tenant(tenant).verify(db)
        } catch let error as StorageError where error.kind == .wrongOwner {
            let owner = (try? db.scalar("SELECT tenant_id FROM mailsync_meta WHERE id = 1")?.string) ?? nil
            if let owner {
                throw BackupError(.wrongTenant, "\(name) holds the database of company \(owner), not of company \(tenant); restore one of \(tenant)'s own backups (ListBackups)")
            }
            throw BackupError(.damaged, "\(name) is not a Mail Sync tenant database (\(error.message)); use another backup")
        } catch let error as StorageError {
            throw BackupError(.damaged, "\(name) is not a Mail Sync tenant database (\(error.message)); use another backup")
        }
        let rows: [String]
        do {
            rows = try db.query("PRAGMA \(depth.rawValue)").compactMap { $0[0].string }
        } catch {
            throw BackupError(.damaged, "\(name) failed SQLite's \(depth.rawValue) (\(error)); use another backup")
        }
        guard rows == ["ok"] else {
            let shown = rows.prefix(3).joined(separator: "; ")
            throw BackupError(.damaged, "\(name) failed SQLite's \(depth.rawValue): \(shown); use another backup")
        }
        do {
            return try db.userVersion()
        } catch {
            throw BackupError(.damaged, "\(name): cannot read its schema version (\(error))")
        }
    }
}
