import CSQLite

/// An error from the storage layer: a failed SQLite call, or a file this build refuses to use.
///
/// SQLite failures carry the extended result code, SQLite's own message, the statement (when there
/// is one) and the file. Use ``isFull``, ``isBusy`` and ``isCorrupt`` to decide what to do rather
/// than matching codes. ``description`` is written for an operator's log: it says what happened
/// and, where there is one, what to do about it.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: new kinds may be added without breaking callers.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable {
            case sqlite
            case newerSchema
            case wrongApplicationID
            case wrongOwner
            case notFound
            case alreadyExists
            case closed
            case invalidMigrations
            case fileSystem
            case offline
            case locked
        }

        let base: Base

        /// SQLite returned an error; see ``StorageError/sqliteCode``.
        public static let sqlite = Kind(base: .sqlite)
        /// The file's `user_version` is newer than the newest migration this build knows.
        public static let newerSchema = Kind(base: .newerSchema)
        /// The file's `application_id` is not the one expected for this kind of file.
        public static let wrongApplicationID = Kind(base: .wrongApplicationID)
        /// The file is stamped for another tenant (or is not stamped at all).
        public static let wrongOwner = Kind(base: .wrongOwner)
        /// The tenant's file does not exist.
        public static let notFound = Kind(base: .notFound)
        /// ``TenantPool/create(_:)`` found a file already there.
        public static let alreadyExists = Kind(base: .alreadyExists)
        /// The connection, executor or pool was closed.
        public static let closed = Kind(base: .closed)
        /// A migration list is not numbered 1, 2, 3, ….
        public static let invalidMigrations = Kind(base: .invalidMigrations)
        /// A directory could not be created or read.
        public static let fileSystem = Kind(base: .fileSystem)
        /// The tenant is offline (``TenantPool/takeOffline(_:)``), e.g. while it is restored.
        public static let offline = Kind(base: .offline)
        /// Another process holds the data directory (``DataDirectoryLock``).
        public static let locked = Kind(base: .locked)

        public var description: String { "\(base)" }
    }

    public var kind: Kind
    /// SQLite's extended result code (e.g. 13 for `SQLITE_FULL`), or `nil` for a refusal by this layer.
    public var sqliteCode: Int32?
    /// What went wrong, in words.
    public var message: String
    /// The SQL being run, when there was one.
    public var statement: String?
    /// The database file, when known.
    public var path: String?

    public init(kind: Kind, sqliteCode: Int32? = nil, message: String, statement: String? = nil, path: String? = nil) {
        self.kind = kind
        self.sqliteCode = sqliteCode
        self.message = message
        self.statement = statement
        self.path = path
    }

    /// SQLite's primary result code (the low byte of the extended code).
    public var primaryCode: Int32? { sqliteCode.map { $0 & 0xFF } }

    /// The disk (or the file's `max_page_count`) is full. The transaction was rolled back.
    public var isFull: Bool { primaryCode == SQLITE_FULL }

    /// Another connection held a lock for longer than the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }

    /// The file is damaged or is not a database.
    public var isCorrupt: Bool { primaryCode == SQLITE_CORRUPT || primaryCode == SQLITE_NOTADB }

    public var description: String {
        var text: String
        if isFull {
            text = "disk full: free space on the data volume (SQLite: \(message)); the transaction was rolled back"
        } else if isBusy {
            text = "database busy: another connection held a lock past the busy timeout (SQLite: \(message))"
        } else if isCorrupt {
            text = "database file is damaged or not a database (SQLite: \(message)); restore it from a backup"
        } else {
            text = message
        }
        if let sqliteCode { text += " [SQLite code \(sqliteCode)]" }
        if let path { text += " [file \(path)]" }
        if let statement { text += " [statement: \(statement)]" }
        return text
    }
}

extension StorageError {
    /// Builds an error from a failed SQLite call on `db` (which may be `nil` if opening failed).
    static func sqlite(_ code: Int32, db: OpaquePointer?, statement: String? = nil, path: String? = nil) -> StorageError {
        let message: String
        if let db, let cMessage = sqlite3_errmsg(db) {
            message = String(cString: cMessage)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        var extended = code
        if let db {
            let fromDB = sqlite3_extended_errcode(db)
            // Prefer the extended code when it refines the code we were given.
            if fromDB & 0xFF == code & 0xFF { extended = fromDB }
        }
        return StorageError(kind: .sqlite, sqliteCode: extended, message: message, statement: statement, path: path)
    }
}
