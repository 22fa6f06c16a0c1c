import CSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A consistent copy of a live tenant file through SQLite's online backup API.
///
/// The source is opened by a connection of its own, read-only (`SQLITE_OPEN_READONLY`, never the
/// pool's writer). It holds one read transaction for the whole copy, so every page comes from the
/// same snapshot: the copy is the database as of one commit, and other connections' commits do not
/// restart it (the backup API restarts when the source changes between steps outside a read
/// transaction, which under steady writes can go on forever). Tenant files are in WAL mode, where
/// a reader never blocks writers: the server keeps writing during the copy, into the `-wal`; only
/// checkpoints cannot move past the snapshot until it ends. Pages are copied ``pagesPerStep`` at a
/// time (sleeping ``pause`` between steps) so the copy yields the disk to the server.
///
/// The copy is switched to `journal_mode=DELETE` (a single self-contained file) and synced.
/// Blocking: use on a ``BlockingThread``. Failures throw ``BackupError``.
struct OnlineSnapshot {
    /// Pages per `sqlite3_backup_step`. Default 1,024 (4 MiB with 4 KiB pages).
    var pagesPerStep: Int32 = 1024
    /// Sleep between steps. Default none.
    var pause: Duration = .zero
    /// How long to wait for a lock (only a checkpoint's brief one, in WAL mode), in milliseconds,
    /// before the copy fails. Default 5 s.
    var busyTimeout: Int32 = 5000

    /// Copies `source` into a new file `destination`. Throws `.notFound` if there is no source.
    func copy(from source: String, to destination: String) throws {
        guard FileSystem.exists(source) else { throw BackupError(.notFound, "no database file at \(source)") }
        let from = try RawDatabase(path: source, flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW)
        defer { from.close() }
        sqlite3_busy_timeout(from.handle, busyTimeout)
        guard !FileSystem.exists(destination) else { throw BackupError(.fileSystem, "\(destination) already exists") }
        let to = try RawDatabase(path: destination, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW)
        defer { to.close() }
        // One read transaction on the source for the whole copy: a single snapshot.
        try from.execute("BEGIN DEFERRED")
        try from.execute("SELECT count(*) FROM sqlite_schema")
        defer { try? from.execute("COMMIT") }

        guard let backup = sqlite3_backup_init(to.handle, "main", from.handle, "main") else {
            throw to.error("could not start the backup of \(source)")
        }
        var code: Int32 = SQLITE_OK
        var busyRetries = 0
        while true {
            code = sqlite3_backup_step(backup, pagesPerStep)
            if code == SQLITE_DONE { break }
            if code == SQLITE_OK {
                if pause > .zero { sleep(for: pause) }
                continue
            }
            // Busy or locked: retry every 5 ms for up to the busy timeout, then give up.
            if code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED, busyRetries < max(1, Int(busyTimeout) / 5) {
                busyRetries += 1
                sleep(for: .milliseconds(5))
                continue
            }
            break
        }
        let finish = sqlite3_backup_finish(backup)
        guard code == SQLITE_DONE, finish == SQLITE_OK else {
            throw to.error("the backup of \(source) failed (SQLite code \(code == SQLITE_DONE ? finish : code))")
        }
        try to.execute("PRAGMA journal_mode=DELETE")
    }

    private func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        _ = nanosleep(&request, nil)
    }
}

/// A bare SQLite handle for what ``SQLiteConnection`` does not offer: a read-only open and the
/// backup API. Closed by ``close()``.
final class RawDatabase {
    let handle: OpaquePointer
    let path: String
    private var isClosed = false

    init(path: String, flags: Int32) throws {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(handle)
            throw BackupError(.fileSystem, "cannot open \(path): \(message)")
        }
        self.handle = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    func execute(_ sql: String) throws {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error("\(sql) failed on \(path)") }
    }

    func error(_ what: String) -> BackupError {
        let message = String(cString: sqlite3_errmsg(handle))
        let code = sqlite3_extended_errcode(handle)
        let hint = code & 0xFF == SQLITE_FULL ? " (the disk is full: free space and try again)" : ""
        return BackupError(.fileSystem, "\(what): \(message)\(hint)")
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        sqlite3_close_v2(handle)
    }
}
