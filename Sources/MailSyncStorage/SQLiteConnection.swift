import CSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to one SQLite file through the system libsqlite3.
///
/// Opening applies the settings every Mail Sync file gets:
/// - flags `READWRITE | NOMUTEX | NOFOLLOW` (plus `CREATE` in ``Mode/create``): a path whose file is a
///   symbolic link is refused;
/// - `journal_mode=WAL` (unless ``Options/walMode`` is off), `synchronous=NORMAL`, `foreign_keys=ON`,
///   `trusted_schema=OFF`, a busy timeout (default 5 s), extended result codes;
/// - `ATTACH` disabled (`SQLITE_LIMIT_ATTACHED` = 0), so SQL cannot reach another file.
///
/// Statements run through ``withStatement(_:_:)`` are prepared once and kept in an LRU cache keyed
/// by SQL text (default 64). Writes belong in ``transaction(immediate:_:)``, which uses
/// `BEGIN IMMEDIATE` so the write lock is taken up front (a deferred transaction that later
/// upgrades can fail with `SQLITE_BUSY` despite the busy timeout).
///
/// Threading: not thread-safe (opened `NOMUTEX`). Use a connection from one thread at a time; the
/// ``DatabaseExecutor`` owns each connection on its own thread. Failure: every call throws
/// ``StorageError`` with SQLite's code, message and statement.
public final class SQLiteConnection {
    /// How to open the file.
    public enum Mode: Sendable {
        /// The file must already exist.
        case open
        /// Create the file if it does not exist.
        case create
    }

    /// Settings for a connection.
    public struct Options: Sendable {
        /// How long to wait for a lock held by another connection. Default 5 seconds.
        public var busyTimeout: Duration = .seconds(5)
        /// How many prepared statements to keep. Default 64; 0 disables the cache.
        public var statementCacheCapacity: Int = 64
        /// Switch the file to WAL mode on open. Default `true`.
        public var walMode: Bool = true
        /// Keep the `-wal` file when the last connection closes (it is checkpointed first).
        /// Default `true`: reopening a tenant then creates and deletes no files, which keeps
        /// file-system journal work out of cold opens (measured: a lower p99 with 10,000 tenants).
        /// The `.sqlite` file alone is still complete after a clean close.
        public var persistentWAL: Bool = true
        /// Whether closing runs a WAL checkpoint (copying the log into the database file, with an
        /// fsync). Default false: evicting a tenant then costs no disk flush, which keeps cold
        /// opens of other tenants fast; the log stays and is read by the next open, and SQLite's
        /// automatic checkpoints during writes still bound its size (about 1,000 pages).
        public var checkpointOnClose: Bool = false
        /// `PRAGMA wal_autocheckpoint` in pages, or `nil` for SQLite's default (1,000 pages).
        /// Default `nil`. A file whose WAL is shipped off the machine (MailSyncReplication's
        /// `WALShipper`) must be opened with 0 by every connection: the shipper then owns
        /// checkpoints and never lets one copy away a frame it has not shipped. Negative values
        /// are treated as 0.
        public var walAutocheckpointPages: Int?

        public init() {}
    }

    /// The SQLite handle, for code in this module that needs the C API.
    let db: OpaquePointer
    /// The file's path.
    public let path: String
    private var cache: StatementCache
    private var isClosed = false
    private var preparedCount = 0
    /// `PRAGMA page_size`, once read (``pageSize()``).
    var cachedPageSize: Int64?

    /// Opens (or creates) the file at `path`. Blocks: call it on a database thread.
    ///
    /// Throws ``StorageError`` with kind `.notFound` when `mode` is `.open` and there is no file,
    /// or kind `.sqlite` when SQLite refuses (a symbolic link gives `SQLITE_CANTOPEN`).
    public init(path: String, mode: Mode = .create, options: Options = Options()) throws {
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        if mode == .create { flags |= SQLITE_OPEN_CREATE }
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = StorageError.sqlite(code, db: handle, path: path)
            sqlite3_close_v2(handle)
            if mode == .open, code & 0xFF == SQLITE_CANTOPEN, !fileExists(path) {
                throw StorageError(kind: .notFound, sqliteCode: code, message: "no database file at \(path)", path: path)
            }
            throw error
        }
        self.db = handle
        self.path = path
        self.cache = StatementCache(capacity: options.statementCacheCapacity)

        sqlite3_extended_result_codes(handle, 1)
        sqlite3_limit(handle, SQLITE_LIMIT_ATTACHED, 0)
        if options.persistentWAL {
            var on: Int32 = 1
            sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on)
        }
        if !options.checkpointOnClose {
            csqlite_disable_checkpoint_on_close(handle)
        }
        let milliseconds = options.busyTimeout.components.seconds * 1000
            + options.busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
        do {
            try execute("PRAGMA trusted_schema=OFF; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL")
            if options.walMode { try enableWAL() }
            if let pages = options.walAutocheckpointPages { try execute("PRAGMA wal_autocheckpoint=\(max(0, pages))") }
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Switches the file to WAL mode (a no-op when it already is). Throws if SQLite refuses.
    public func enableWAL() throws {
        let mode = try scalar("PRAGMA journal_mode=WAL")?.string?.lowercased()
        guard mode == "wal" else {
            throw StorageError(kind: .sqlite, message: "could not switch \(path) to WAL mode (journal_mode is \(mode ?? "unknown"))", path: path)
        }
    }

    /// Finalizes cached statements and closes the file. Idempotent. Later calls throw `.closed`.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        cache.removeAll()
        // close_v2 defers the real close until statements still held elsewhere are finalized.
        sqlite3_close_v2(db)
    }

    private func checkOpen() throws {
        if isClosed { throw StorageError(kind: .closed, message: "the connection to \(path) is closed", path: path) }
    }

    // MARK: Running SQL

    /// Runs one or more `;`-separated statements with no parameters (schema changes, pragmas).
    /// Nothing is cached; rows are ignored.
    public func execute(_ sql: String) throws {
        try checkOpen()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        sqlite3_free(errorMessage)
        if code != SQLITE_OK { throw StorageError.sqlite(code, db: db, statement: sql, path: path) }
    }

    /// Runs a cached prepared statement with `arguments` and returns the number of rows changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> Int {
        try withStatement(sql) { try $0.run(arguments) }
    }

    /// Runs a cached prepared statement and copies out every row.
    public func query(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> [Row] {
        try withStatement(sql) { statement in
            try statement.bind(arguments)
            let count = statement.columnCount
            let columns = (0..<count).map { statement.columnName($0) }
            var rows: [Row] = []
            while try statement.step() {
                rows.append(Row(columns: columns, values: (0..<count).map { statement.value($0) }))
            }
            return rows
        }
    }

    /// The first column of the first row, or `nil` when there is no row.
    public func scalar(_ sql: String, _ arguments: [SQLiteValue] = []) throws -> SQLiteValue? {
        try withStatement(sql) { statement in
            try statement.bind(arguments)
            return try statement.step() ? statement.value(0) : Optional<SQLiteValue>.none
        }
    }

    /// Hands `body` a prepared statement for `sql`, from the cache when possible, and resets it after.
    ///
    /// If the cached statement for `sql` is already in use (a nested call with the same SQL), a
    /// fresh uncached one is prepared. `sql` must hold exactly one statement.
    public func withStatement<T>(_ sql: String, _ body: (Statement) throws -> T) throws -> T {
        try checkOpen()
        let statement: Statement
        if let cached = cache.lookup(sql), !cached.inUse {
            statement = cached
        } else {
            let cacheable = cache.lookup(sql) == nil
            statement = try prepare(sql, persistent: cacheable)
            if cacheable { cache.insert(statement) }
        }
        statement.inUse = true
        defer {
            statement.reset()
            sqlite3_clear_bindings(statement.handle)
            statement.inUse = false
        }
        return try body(statement)
    }

    /// Prepares a statement that is not cached. Prefer ``withStatement(_:_:)``.
    public func prepare(_ sql: String, persistent: Bool = false) throws -> Statement {
        try checkOpen()
        var handle: OpaquePointer?
        var remainder = ""
        let flags: UInt32 = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sql.withCString { start -> Int32 in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v3(db, start, -1, flags, &handle, &tail)
            if let tail { remainder = String(cString: tail) }
            return code
        }
        guard code == SQLITE_OK else { throw StorageError.sqlite(code, db: db, statement: sql, path: path) }
        guard let handle else {
            throw StorageError(kind: .sqlite, sqliteCode: SQLITE_MISUSE, message: "no SQL statement in the text", statement: sql, path: path)
        }
        if remainder.contains(where: { !$0.isWhitespace && $0 != ";" }) {
            sqlite3_finalize(handle)
            throw StorageError(kind: .sqlite, sqliteCode: SQLITE_MISUSE, message: "more than one statement; use execute(_:) for scripts", statement: sql, path: path)
        }
        preparedCount += 1
        return Statement(handle: handle, db: db, sql: sql)
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: commits if it returns, rolls back if it (or the commit) throws.
    ///
    /// `immediate` (the default) starts with `BEGIN IMMEDIATE`, taking the write lock at once; use it
    /// for every write. `immediate: false` starts a deferred transaction, for a consistent read
    /// snapshot across several statements. Transactions do not nest.
    @discardableResult
    public func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try run(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            // SQLite may already have rolled back (e.g. after some SQLITE_FULL or IOERR cases).
            if !isAutocommit { _ = try? run("ROLLBACK") }
            throw error
        }
    }

    // MARK: State

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(db) }
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(db)) }
    /// `true` outside a transaction.
    public var isAutocommit: Bool { sqlite3_get_autocommit(db) != 0 }
    /// How many statements this connection has prepared (cache misses plus uncached prepares).
    public var prepareCount: Int { preparedCount }
    /// How many statements the cache holds.
    public var cachedStatementCount: Int { cache.count }
}

private func fileExists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}
