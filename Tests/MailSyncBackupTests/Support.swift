import Foundation
import MailSyncStorage
import Synchronization

@testable import MailSyncBackup

/// A data directory with a tenant pool and backups, removed by ``remove()``.
struct BackupFixture {
    let path: String
    let pool: TenantPool
    let backups: TenantBackups

    /// The tenant schema: `items` rows plus a one-row `counter` kept equal to their count in every
    /// transaction, so a snapshot taken between commits shows whether it is consistent.
    static let schema = [
        Migration(version: 1, name: "items and counter", sql: """
            CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL, payload BLOB NOT NULL);
            CREATE TABLE counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
            INSERT INTO counter (id, n) VALUES (1, 0);
            """)
    ]

    /// A new data directory, or the one at `path` (another fixture's, after its pool was closed)
    /// opened with `schema` (a later schema version, for restoring older backups).
    init(configuration: TenantBackups.Configuration = TenantBackups.Configuration(), path existing: String? = nil,
         schema: [Migration] = Self.schema) throws {
        path = existing ?? FileManager.default.temporaryDirectory.path + "/mailsync-backup-tests-" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        pool = try TenantPool(dataDirectory: DataDirectory(path), migrations: schema, capacity: 10)
        backups = TenantBackups(pool: pool, configuration: configuration)
    }

    func remove() async {
        await pool.close()
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A new tenant with `rows` items.
    func makeTenant(rows: Int, payloadBytes: Int = 200) async throws -> TenantID {
        let tenant = TenantID.random()
        let lease = try await pool.create(tenant)
        defer { lease.release() }
        try await lease.write { db in
            for i in 0..<rows {
                try Self.insert(db, label: "item \(i)", payloadBytes: payloadBytes)
            }
        }
        return tenant
    }

    /// One item and the counter, in the caller's transaction.
    static func insert(_ db: SQLiteConnection, label: String, payloadBytes: Int = 200) throws {
        let payload = (0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ label.count) }
        try db.run("INSERT INTO items (label, payload) VALUES (?, ?)", [.text(label), .blob(payload)])
        try db.run("UPDATE counter SET n = n + 1 WHERE id = 1")
    }

    /// Every item row, in id order.
    func rows(_ tenant: TenantID) async throws -> [[SQLiteValue]] {
        try await pool.withTenant(tenant) { lease in
            try await lease.read { db in try db.query("SELECT id, label, payload FROM items ORDER BY id").map(\.values) }
        }
    }

    /// The rows of a database file opened directly (a decompressed backup).
    static func rows(inFile path: String) throws -> (rows: [[SQLiteValue]], counter: Int64?) {
        var options = SQLiteConnection.Options()
        options.walMode = false
        let db = try SQLiteConnection(path: path, mode: .open, options: options)
        defer { db.close() }
        return (try db.query("SELECT id, label, payload FROM items ORDER BY id").map(\.values),
                try db.scalar("SELECT n FROM counter")?.int64)
    }

    func live(_ tenant: TenantID) -> String { pool.dataDirectory.tenantDatabasePath(tenant) }
}

extension BackupError.Kind {
    var name: String { "\(self)" }
}

/// A flag and a counter shareable with tasks (`Atomic` itself cannot be captured).
final class SharedFlag: Sendable {
    private let atomic = Atomic<Bool>(false)
    var isSet: Bool { atomic.load(ordering: .sequentiallyConsistent) }
    func set() { atomic.store(true, ordering: .sequentiallyConsistent) }
}

final class SharedCounter: Sendable {
    private let atomic = Atomic<Int>(0)
    var value: Int { atomic.load(ordering: .sequentiallyConsistent) }
    func increment() { atomic.add(1, ordering: .sequentiallyConsistent) }
}

final class CallLog: Sendable {
    private let calls = Mutex<[Int]>([])
    var values: [Int] { calls.withLock { $0 } }
    func append(_ value: Int) { calls.withLock { $0.append(value) } }
}
