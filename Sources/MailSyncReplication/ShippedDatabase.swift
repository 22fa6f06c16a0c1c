import Foundation

/// The shipper's side of one database file: three connections and the `-wal` file, used only on
/// the shipper's thread.
///
/// - `pin` holds a read transaction between calls. SQLite never checkpoints past a reader's
///   snapshot, and never restarts the log while a reader uses it, so a stray checkpoint by another
///   connection cannot copy away (and then overwrite) frames newer than the pin. It is always
///   taken *before* the log is read, so it is never ahead of what was read.
/// - `lock` takes the write lock (`BEGIN IMMEDIATE`, rolled back, nothing written) to hold
///   writers still for a moment: while it is held the log cannot grow.
/// - `checkpointer` runs `wal_checkpoint(PASSIVE)`, which never waits and copies only frames no
///   reader still needs.
final class ShippedDatabase: @unchecked Sendable {
    let path: String
    let walPath: String
    let pin: RawConnection
    let lock: RawConnection
    let checkpointer: RawConnection

    /// Opens the three connections. `lockTimeoutMilliseconds` bounds the wait for the write lock
    /// (a writer's transaction in progress).
    init(path: String, lockTimeoutMilliseconds: Int32) throws {
        self.path = path
        self.walPath = path + "-wal"
        pin = try RawConnection(path: path, busyTimeoutMilliseconds: 1000)
        lock = try RawConnection(path: path, busyTimeoutMilliseconds: lockTimeoutMilliseconds)
        checkpointer = try RawConnection(path: path, busyTimeoutMilliseconds: 0)
        let mode = try pin.text("PRAGMA journal_mode")?.lowercased()
        guard mode == "wal" else {
            throw ReplicationError(.database, "\(path) is not in WAL mode (journal_mode is \(mode ?? "unknown")); only WAL databases can be shipped")
        }
    }

    func close() {
        unpin()
        pin.close()
        lock.close()
        checkpointer.close()
    }

    /// Starts a read transaction on `pin` at the newest commit.
    func repin() throws {
        unpin()
        try pin.execute("BEGIN DEFERRED")
        _ = try pin.query("SELECT count(*) FROM sqlite_schema")
    }

    func unpin() {
        if pin.isInTransaction { try? pin.execute("ROLLBACK") }
    }

    /// `PRAGMA wal_checkpoint(PASSIVE)`; `true` when every frame of the log is now in the
    /// database file (SQLite then restarts the log at the next write), `false` when frames remain
    /// or the checkpoint could not run (another checkpoint in progress reports -1).
    func passiveCheckpoint() throws -> Bool {
        let row = try checkpointer.query("PRAGMA wal_checkpoint(PASSIVE)").first ?? []
        guard row.count == 3 else { return false }
        return row[0] == 0 && row[1] >= 0 && row[1] == row[2]
    }

    /// Runs `body` while writers are held still (the write lock taken by `lock`). `nil` when the
    /// lock could not be taken within the lock timeout (a long write transaction); try later.
    func withWritersPaused<T>(_ body: () throws -> T) throws -> T? {
        guard try lock.beginImmediate() else { return nil }
        defer { try? lock.execute("ROLLBACK") }
        return try body()
    }

    /// What the log holds past `position`, or `nil` when the log is not the one `position` is in
    /// nor its direct successor (another process restarted it, perhaps more than once, or it
    /// was replaced): shipping cannot continue this generation.
    ///
    /// A successor (the log restarted once) is accepted because this shipper lets the log restart
    /// only once every frame in it was read: a restart needs every frame copied to the database,
    /// and copies never pass the pin, taken before the last read.
    ///
    /// At most about `limit` bytes of frames are read (more only when one transaction is larger:
    /// the window doubles until it holds a commit); ``WALTail/isComplete`` says whether the read
    /// reached the end of the log's valid frames.
    func readTail(after position: WALPosition, limit: Int) throws -> WALTail? {
        guard let file = FileHandle(forReadingAtPath: walPath) else {
            // No log (never written, or removed after a clean close): nothing new.
            return emptyTail(position)
        }
        defer { try? file.close() }
        let headerBytes = [UInt8](try file.read(upToCount: WALHeader.size) ?? Data())
        guard let header = WALHeader(headerBytes) else { return emptyTail(position) }
        var start = position
        if let known = position.header {
            if known != header {
                guard known.isDirectSuccessor(header) else { return nil }
                start = WALPosition(header: header, walIndex: position.walIndex &+ 1, end: WALHeader.size, checksum: header.checksum)
            }
        } else {
            start = WALPosition(header: header, walIndex: position.walIndex, end: WALHeader.size, checksum: header.checksum)
        }
        var window = max(header.frameSize, limit - limit % header.frameSize)
        while true {
            try file.seek(toOffset: UInt64(start.end))
            let bytes = [UInt8](try file.read(upToCount: window) ?? Data())
            let scan = WALFile.scan(bytes, header: header, fileOffset: start.end, from: start.end, checksum: start.checksum)
            let reachedEnd = bytes.count < window || scan.validEnd < start.end + bytes.count
            if scan.end == start.end, !reachedEnd, window <= Int.max / 4 {
                window *= 2  // one transaction larger than the window: read it whole
                continue
            }
            let frames = Array(bytes[0..<(scan.end - start.end)])
            let next = WALPosition(header: header, walIndex: start.walIndex, end: scan.end, checksum: scan.checksum)
            return WALTail(
                walIndex: start.walIndex, offset: start.end, frames: frames, frameCount: scan.frames.count,
                pageSize: header.pageSize, next: next, isComplete: reachedEnd)
        }
    }

    private func emptyTail(_ position: WALPosition) -> WALTail {
        WALTail(walIndex: position.walIndex, offset: position.end, frames: [], frameCount: 0, pageSize: position.header?.pageSize ?? 0, next: position, isComplete: true)
    }

    /// Bytes of committed log content past the header in the log `position` is in.
    static func logBytes(_ position: WALPosition) -> Int { max(0, position.end - WALHeader.size) }
}
