import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncStorage

/// A scratch directory removed by ``remove()``.
struct ScratchDirectory {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-replication-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// The shipped database most tests use, and the store beside it.
    var databasePath: String { path + "/tenant.sqlite" }
    var store: DirectoryObjectStore { DirectoryObjectStore(root: path + "/store") }
}

/// A wall clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    var now: Date { lock.withLock { current } }

    func advance(seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }

    var function: @Sendable () -> Date { { [self] in self.now } }
}

/// Opens a database the way a shipped server database is opened (no automatic checkpoints).
func openShippedDatabase(_ path: String) throws -> SQLiteConnection {
    var options = SQLiteConnection.Options()
    options.prepareForWALShipping()
    let db = try SQLiteConnection(path: path, mode: .create, options: options)
    try db.execute("CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, value TEXT NOT NULL, n INTEGER NOT NULL)")
    return db
}

/// Every row of `items`, in id order, as `id|value|n` text.
func tableState(_ db: SQLiteConnection) throws -> [String] {
    try db.query("SELECT id, value, n FROM items ORDER BY id").map { row in
        "\(row[0].int64 ?? -1)|\(row[1].string ?? "?")|\(row[2].int64 ?? -1)"
    }
}

/// The rows of a restored file (opened without WAL switching, read-only use).
func tableState(ofFile path: String) throws -> [String] {
    var options = SQLiteConnection.Options()
    options.walMode = false
    let db = try SQLiteConnection(path: path, mode: .open, options: options)
    defer { db.close() }
    return try tableState(db)
}

/// A small deterministic generator (SplitMix64) so failures replay.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
