/// Opens a Mail Sync database file: create-and-stamp or open-and-check, then migrate.
///
/// The order on open matters: the stamp and the schema version are checked before anything is
/// written (switching to WAL, migrating), so a foreign, misplaced or newer file is refused
/// untouched. Blocking: call on the thread that will own the connection.
enum DatabaseFile {
    struct Opened {
        let connection: SQLiteConnection
        let migratedFrom: Int32
        let version: Int32
    }

    /// Opens an existing file. Throws `.notFound` if there is none.
    static func open(path: String, stamp: FileStamp, migrator: Migrator, options: SQLiteConnection.Options) throws -> Opened {
        var deferred = options
        deferred.walMode = false
        let db = try SQLiteConnection(path: path, mode: .open, options: deferred)
        do {
            try stamp.verify(db)
            try migrator.checkNotNewer(db)
            if options.walMode { try db.enableWAL() }
            let (from, to) = try migrator.migrate(db)
            return Opened(connection: db, migratedFrom: from, version: to)
        } catch {
            db.close()
            throw error
        }
    }

    /// Creates, stamps and migrates a new file. Throws `.alreadyExists` if the path already holds
    /// a database with any content (it is left as it was).
    static func create(path: String, stamp: FileStamp, migrator: Migrator, options: SQLiteConnection.Options) throws -> Opened {
        var deferred = options
        deferred.walMode = false
        let db = try SQLiteConnection(path: path, mode: .create, options: deferred)
        do {
            let isEmpty = try db.applicationID() == 0 && db.userVersion() == 0
                && db.scalar("SELECT count(*) FROM sqlite_schema")?.int64 == 0
            guard isEmpty else {
                throw StorageError(kind: .alreadyExists, message: "\(path) already holds a database; refusing to create over it", path: path)
            }
            try stamp.write(to: db)
            if options.walMode { try db.enableWAL() }
            let (from, to) = try migrator.migrate(db)
            return Opened(connection: db, migratedFrom: from, version: to)
        } catch {
            db.close()
            throw error
        }
    }

    /// Opens the file if it exists, otherwise creates it (the control database's start-up).
    static func openOrCreate(path: String, stamp: FileStamp, migrator: Migrator, options: SQLiteConnection.Options) throws -> Opened {
        do {
            return try open(path: path, stamp: stamp, migrator: migrator, options: options)
        } catch let error as StorageError where error.kind == .notFound {
            return try create(path: path, stamp: stamp, migrator: migrator, options: options)
        }
    }
}
