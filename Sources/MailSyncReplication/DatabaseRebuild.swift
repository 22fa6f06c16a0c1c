import CSQLite
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a database file from a snapshot and log frames by writing pages directly: each
/// transaction's pages are held until its commit frame, then written at `(page - 1) × pageSize`
/// and the file is cut to the commit's size. Frames after the last commit are an error (a
/// segment always ends with a commit), and so is a page past its commit's database size.
///
/// Writing pages, rather than writing a `-wal` beside the file and letting SQLite checkpoint it,
/// needs no checksums recomputed and no SQLite locking; the result is the same file SQLite's own
/// checkpoint would write. The file is created exclusively (an existing path is refused) with
/// mode 0600. Blocking; not thread-safe.
final class DatabaseRebuild: @unchecked Sendable {
    let path: String
    let pageSize: Int
    private let fd: Int32
    private var transaction: [(page: UInt32, bytes: ArraySlice<UInt8>)] = []
    private var isClosed = false

    init(path: String, pageSize: Int, snapshot: [UInt8]) throws {
        self.path = path
        self.pageSize = pageSize
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw ReplicationError(.fileSystem, "cannot create \(path): \(String(cString: strerror(errno))) (the destination must not exist)")
        }
        do {
            try write(snapshot[...], at: 0)
        } catch {
            closeFile()
            unlink(path)
            throw error
        }
    }

    deinit { closeFile() }

    /// Applies a segment's frames (whole transactions, as ``SegmentCodec`` verified them).
    func apply(frames: [UInt8], object: String) throws {
        let frameSize = WALHeader.frameHeaderSize + pageSize
        var offset = 0
        while offset < frames.count {
            guard frames.count - offset >= frameSize else { break }
            let (page, commitSize) = frames.withUnsafeBytes { (BigEndian.uint32($0, offset), BigEndian.uint32($0, offset + 4)) }
            guard page != 0 else { throw damaged(object, "a frame names page 0") }
            transaction.append((page, frames[(offset + WALHeader.frameHeaderSize)..<(offset + frameSize)]))
            offset += frameSize
            if commitSize != 0 {
                // SQLite never writes a page past the size a commit leaves the database at.
                guard transaction.allSatisfy({ $0.page <= commitSize }) else {
                    throw damaged(object, "a transaction writes a page past its commit's database size")
                }
                for (page, bytes) in transaction {
                    try write(bytes, at: (Int64(page) - 1) * Int64(pageSize))
                }
                transaction.removeAll(keepingCapacity: true)
                guard ftruncate(fd, off_t(Int64(commitSize) * Int64(pageSize))) == 0 else {
                    throw ReplicationError(.fileSystem, "cannot resize \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
        guard offset == frames.count, transaction.isEmpty else { throw damaged(object, "it does not end with a commit") }
    }

    /// Flushes the file to disk and closes it.
    func finish() throws {
        guard fsync(fd) == 0 else { throw ReplicationError(.fileSystem, "cannot sync \(path): \(String(cString: strerror(errno)))") }
        closeFile()
    }

    func closeFile() {
        guard !isClosed else { return }
        isClosed = true
        close(fd)
    }

    private func write(_ bytes: ArraySlice<UInt8>, at offset: Int64) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let count = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done)))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ReplicationError(.fileSystem, "cannot write \(path): \(String(cString: strerror(errno)))")
                }
                done += count
            }
        }
    }

    private func damaged(_ object: String, _ why: String) -> ReplicationError {
        ReplicationError(.damagedObject, "the segment \(object) is damaged: \(why); the restore was refused", object: object)
    }

    /// Opens the rebuilt file with SQLite, switches it to `journal_mode=DELETE` (one
    /// self-contained file) and runs `PRAGMA integrity_check`. Throws `.integrity` unless it
    /// answers `ok`.
    static func verify(_ path: String) throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nil) == SQLITE_OK, let handle else {
            sqlite3_close_v2(handle)
            throw ReplicationError(.integrity, "the rebuilt database \(path) cannot be opened")
        }
        defer { sqlite3_close_v2(handle) }
        func rows(_ sql: String) -> [String]? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else { return nil }
            defer { sqlite3_finalize(statement) }
            var result: [String] = []
            while true {
                let code = sqlite3_step(statement)
                if code == SQLITE_DONE { return result }
                guard code == SQLITE_ROW else { return nil }
                result.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
            }
        }
        guard rows("PRAGMA journal_mode=DELETE") == ["delete"] else {
            throw ReplicationError(.integrity, "the rebuilt database \(path) is not a readable SQLite database: \(String(cString: sqlite3_errmsg(handle)))")
        }
        let check = rows("PRAGMA integrity_check") ?? [String(cString: sqlite3_errmsg(handle))]
        guard check == ["ok"] else {
            throw ReplicationError(.integrity, "the rebuilt database failed integrity_check: \(check.prefix(3).joined(separator: "; ")); the restore was refused")
        }
    }
}
