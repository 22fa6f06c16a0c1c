import CSQLite
import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncStorage

struct Lead: Sendable {
    let email: String
    let name: String
    let company: String
    let updatedAt: Int64
}

let upsertSQL = """
    INSERT INTO leads (email, name, company, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (email) DO UPDATE SET name = excluded.name, company = excluded.company, updated_at = excluded.updated_at
    """

func makeLeads(_ count: Int, round: Int) -> [Lead] {
    (0..<count).map { n in
        Lead(email: "lead\(n)@customer\(n % 97).example", name: "Lead \(n) r\(round)", company: "Company \(n % 211)", updatedAt: Int64(1_700_000_000 + n + round))
    }
}

/// Batched upserts: each batch is one `BEGIN IMMEDIATE` transaction. Pass 1 inserts every row into
/// a new file; pass 2 upserts the same emails again (every row an update). Ours goes through a
/// TenantPool lease (a thread hop per batch, the cached statement, typed binds); the floor is the
/// same SQL through the C API on the calling thread, one prepared statement, no Swift layer.
func upserts(root: String, settings: Settings) async throws {
    // A directory of its own, removed afterwards, so a kept --data-dir holds only the open test's tenants.
    let root = root + "/upserts"
    let data = DataDirectory(root)
    try? FileManager.default.removeItem(atPath: root)
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    var results: [String: [Double]] = [:]
    let pool = try TenantPool(dataDirectory: data, migrations: [leadsMigration], capacity: settings.capacity)
    // The same pool settings with the file shipped off the machine: no automatic checkpoints, a
    // WALShipper shipping every second to a directory (what `remoteBackup` does in the server).
    var shippedOptions = SQLiteConnection.Options()
    shippedOptions.prepareForWALShipping()
    let shippedData = DataDirectory(root + "/shipped")
    let shippedPool = try TenantPool(dataDirectory: shippedData, migrations: [leadsMigration], capacity: settings.capacity, options: shippedOptions)
    let store = DirectoryObjectStore(root: root + "/bucket")
    for round in 0..<settings.rounds {
        let rows = makeLeads(settings.rows, round: round)
        let tenant = TenantID.random()
        let batches = stride(from: 0, to: rows.count, by: settings.batch).map { Array(rows[$0..<min($0 + settings.batch, rows.count)]) }

        // Alternate which side goes first, so neither always gets the warmer cache.
        for side in round % 2 == 0 ? ["ours", "shipped", "floor"] : ["floor", "shipped", "ours"] {
            if side == "shipped" {
                let shippedTenant = TenantID.random()
                try await shippedPool.create(shippedTenant).release()
                let shipper = try WALShipper(
                    databasePath: shippedData.tenantDatabasePath(shippedTenant), name: "tenants/\(shippedTenant)", store: store,
                    sealer: PassThroughSealer())
                let shipping = Task {
                    while !Task.isCancelled {
                        _ = try? await shipper.shipOnce()
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
                for pass in ["insert", "update"] {
                    let elapsed = try await ours(pool: shippedPool, tenant: shippedTenant, batches: batches)
                    results["shipped \(pass)", default: []].append(Double(rows.count) / seconds(elapsed))
                }
                shipping.cancel()
                _ = await shipping.value
                _ = try await shipper.shipOnce()
                await shipper.close()
                continue
            }
            for pass in ["insert", "update"] {
                let key = "\(side) \(pass)"
                let elapsed: Duration
                if side == "ours" {
                    if pass == "insert" { try await pool.create(tenant).release() }
                    elapsed = try await ours(pool: pool, tenant: tenant, batches: batches)
                } else {
                    let path = root + "/floor-\(round).sqlite"
                    elapsed = try floor(path: path, batches: batches, create: pass == "insert")
                }
                results[key, default: []].append(Double(rows.count) / seconds(elapsed))
            }
        }
    }
    await pool.close()
    await shippedPool.close()

    print("Lead upserts (\(settings.rows) rows, batches of \(settings.batch), each batch one BEGIN IMMEDIATE transaction)")
    print("  shipped: ours on a file shipped off the machine meanwhile (no automatic checkpoints; a WALShipper every second)")
    print("  case                 best rows/s   median rows/s   ours/floor (median)")
    for pass in ["insert", "update"] {
        let floorMedian = median(results["floor \(pass)"]!)
        for side in ["floor", "ours", "shipped"] {
            let samples = results["\(side) \(pass)"]!
            let ratio = side == "floor" ? "" : String(format: "%.2fx slower", floorMedian / median(samples))
            print(
                "  " + "\(side) \(pass)".padding(toLength: 18, withPad: " ", startingAt: 0)
                    + String(format: "%14.0f  %14.0f   ", samples.max()!, median(samples)) + ratio
            )
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func ours(pool: TenantPool, tenant: TenantID, batches: [[Lead]]) async throws -> Duration {
    let lease = try await pool.open(tenant)
    defer { lease.release() }
    let start = ContinuousClock.now
    for batch in batches {
        try await lease.write { db in
            try db.withStatement(upsertSQL) { statement in
                for lead in batch {
                    try statement.bind(.text(lead.email), at: 0)
                    try statement.bind(.text(lead.name), at: 1)
                    try statement.bind(.text(lead.company), at: 2)
                    try statement.bind(lead.updatedAt, at: 3)
                    _ = try statement.step()
                    statement.reset()
                }
            }
        }
    }
    return ContinuousClock.now - start
}

/// The floor: raw C calls, same pragmas as a tenant file (WAL, synchronous=NORMAL).
func floor(path: String, batches: [[Lead]], create: Bool) throws -> Duration {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
        fatalError("floor: cannot open \(path)")
    }
    defer { sqlite3_close_v2(db) }
    func exec(_ sql: String) {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { fatalError("floor: \(String(cString: sqlite3_errmsg(db)))") }
    }
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
    if create { exec(leadsSQL) }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, upsertSQL, -1, &statement, nil) == SQLITE_OK else { fatalError("floor: prepare") }
    defer { sqlite3_finalize(statement) }
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    let start = ContinuousClock.now
    for batch in batches {
        exec("BEGIN IMMEDIATE")
        for lead in batch {
            sqlite3_bind_text(statement, 1, lead.email, -1, transient)
            sqlite3_bind_text(statement, 2, lead.name, -1, transient)
            sqlite3_bind_text(statement, 3, lead.company, -1, transient)
            sqlite3_bind_int64(statement, 4, lead.updatedAt)
            guard sqlite3_step(statement) == SQLITE_DONE else { fatalError("floor: step") }
            sqlite3_reset(statement)
        }
        exec("COMMIT")
    }
    return ContinuousClock.now - start
}

let leadsSQL = "CREATE TABLE leads (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, company TEXT NOT NULL, updated_at INTEGER NOT NULL)"

func sqliteVersion() -> String { String(cString: sqlite3_libversion()) }
