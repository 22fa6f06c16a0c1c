import CSQLite
import Foundation

/// A bare SQLite connection for what the shipper does that ``SQLiteConnection`` does not offer:
/// holding a read transaction open across calls, taking the write lock without writing,
/// `wal_checkpoint`, and the backup API into memory.
///
/// Opened `READWRITE | NOMUTEX | NOFOLLOW` (never `CREATE`), with `wal_autocheckpoint=0`, no
/// checkpoint on close (`SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE`) and a persistent `-wal`, so closing
/// it never copies unshipped frames into the database file. Not thread-safe: use it on the
/// shipper's thread only. Failures throw ``ReplicationError`` of kind `.database`.
final class RawConnection {
    let handle: OpaquePointer
    let path: String
    private var isClosed = false

    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(handle)
            throw ReplicationError(.database, "cannot open \(path) to ship its WAL: \(message)")
        }
        self.handle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        csqlite_disable_checkpoint_on_close(handle)
        var on: Int32 = 1
        sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &on)
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
        do {
            try execute("PRAGMA wal_autocheckpoint=0")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        sqlite3_close_v2(handle)
    }

    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    func execute(_ sql: String) throws {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(sql, code) }
    }

    /// Runs one statement and returns its rows as integers (what the pragmas used here return).
    func query(_ sql: String) throws -> [[Int64]] {
        var statement: OpaquePointer?
        var code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(sql, code) }
        defer { sqlite3_finalize(statement) }
        var rows: [[Int64]] = []
        while true {
            code = sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error(sql, code) }
            rows.append((0..<sqlite3_column_count(statement)).map { sqlite3_column_int64(statement, $0) })
        }
    }

    /// The first column of the first row as text (`PRAGMA journal_mode`).
    func text(_ sql: String) throws -> String? {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(sql, code) }
        defer { sqlite3_finalize(statement) }
        let step = sqlite3_step(statement)
        guard step == SQLITE_ROW || step == SQLITE_DONE else { throw error(sql, step) }
        return step == SQLITE_ROW ? sqlite3_column_text(statement, 0).map { String(cString: $0) } : nil
    }

    func error(_ what: String, _ code: Int32) -> ReplicationError {
        let message = String(cString: sqlite3_errmsg(handle))
        return ReplicationError(.database, "\(what) failed on \(path): \(message) [SQLite code \(sqlite3_extended_errcode(handle))]")
    }

    /// `BEGIN IMMEDIATE`: takes the write lock, waiting up to the busy timeout. `false` when
    /// another connection kept it that long.
    func beginImmediate() throws -> Bool {
        let code = sqlite3_exec(handle, "BEGIN IMMEDIATE", nil, nil, nil)
        if code & 0xFF == SQLITE_BUSY { return false }
        guard code == SQLITE_OK else { throw error("BEGIN IMMEDIATE", code) }
        return true
    }

    /// A copy of the database as this connection sees it (its open read transaction's snapshot,
    /// if any), through the backup API into an in-memory database, serialized. The whole file
    /// is held in memory.
    func snapshotBytes() throws -> [UInt8] {
        var memory: OpaquePointer?
        guard sqlite3_open_v2(":memory:", &memory, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let memory else {
            sqlite3_close_v2(memory)
            throw ReplicationError(.database, "cannot open an in-memory database for the snapshot of \(path)")
        }
        defer { sqlite3_close_v2(memory) }
        let pageSize = try query("PRAGMA page_size").first?.first ?? 4096
        _ = sqlite3_exec(memory, "PRAGMA page_size=\(pageSize)", nil, nil, nil)
        guard let backup = sqlite3_backup_init(memory, "main", handle, "main") else {
            throw ReplicationError(.database, "cannot start the snapshot of \(path): \(String(cString: sqlite3_errmsg(memory)))")
        }
        let step = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else {
            throw ReplicationError(.database, "the snapshot of \(path) failed (SQLite code \(step == SQLITE_DONE ? finish : step))")
        }
        var size: sqlite3_int64 = 0
        guard let bytes = sqlite3_serialize(memory, "main", &size, 0) else {
            throw ReplicationError(.database, "cannot serialize the snapshot of \(path) (out of memory?)")
        }
        defer { sqlite3_free(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: Int(size)))
    }
}
