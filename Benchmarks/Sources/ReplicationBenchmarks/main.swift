// Backups off the machine: restore time per GiB from a real S3 store (SeaweedFS on loopback) beside
// downloading the same bytes and gunzipping a `gzip -1` copy of the database (the floor), and the
// store's size after a simulated week of writes, daily generations and retention, against the
// database's own size (amplification).
//
//   cd Benchmarks && swift run -c release ReplicationBenchmarks [--mb N] [--days N]
//
// See docs/benchmarks.md, "Backups off the machine".
import Foundation
import MailSyncObjectStore
import MailSyncReplication
import MailSyncSecurity
import MailSyncService
import MailSyncStorage
import TestSupport

var megabytes = 256
var days = 7
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--mb": megabytes = Int(arguments.next() ?? "") ?? megabytes
    case "--days": days = Int(arguments.next() ?? "") ?? days
    default: fatalError("unknown option \(argument) (options: --mb N --days N)")
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

/// A shipped database of about `megabytes` MB: rows of random-ish text (compresses about 2:1, as mail does).
func makeDatabase(_ path: String, megabytes: Int) throws -> SQLiteConnection {
    var options = SQLiteConnection.Options()
    options.prepareForWALShipping()
    let db = try SQLiteConnection(path: path, mode: .create, options: options)
    try db.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, body TEXT NOT NULL, n INTEGER NOT NULL)")
    var generator = SystemRandomNumberGenerator()
    let words = (0..<4096).map { _ in String((0..<8).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement(using: &generator)! }) }
    let rows = megabytes * 1024  // ~1 KB each
    var id = 0
    while id < rows {
        try db.execute("BEGIN IMMEDIATE")
        try db.withStatement("INSERT INTO items(id, body, n) VALUES (?, ?, ?)") { statement in
            for _ in 0..<2000 where id < rows {
                let body = (0..<110).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
                try statement.bind(.integer(Int64(id)), at: 0)
                try statement.bind(.text(body), at: 1)
                try statement.bind(.integer(0), at: 2)
                _ = try statement.step()
                statement.reset()
                id += 1
            }
        }
        try db.execute("COMMIT")
    }
    return db
}

func run(_ command: String) throws -> Duration {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let started = ContinuousClock.now
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fatalError("failed: \(command)") }
    return ContinuousClock.now - started
}

let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-repl-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: root) }
let key = BackupKey.generate()
let sealer = SealedObjects(key: key)
print("Mail Sync backups off the machine — SeaweedFS on loopback, 2 cores; database ~\(megabytes) MB, sealed with AES-256-GCM")

// MARK: Restore time per GiB from the bucket
let s3 = try await SeaweedFSServer.start()
do {
    let store = try S3ObjectStore(configuration: S3Configuration(
        endpoint: s3.endpoint, bucket: s3.bucket, prefix: "bench/", accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey))
    let path = root + "/db.sqlite"
    let db = try makeDatabase(path, megabytes: megabytes)
    let shipper = try WALShipper(databasePath: path, name: "tenants/bench", store: store, sealer: sealer)
    let shipStart = ContinuousClock.now
    try await shipper.shipOnce()
    let shipTime = ContinuousClock.now - shipStart
    await shipper.close()
    db.close()
    let bytes = fileSize(path)
    let stored = try await store.list(prefix: "").reduce(Int64(0)) { $0 + $1.size }
    let gib = Double(bytes) / Double(1 << 30)

    var ours: [Double] = []
    var floors: [Double] = []
    // The floor: the same database as `gzip -1`, fetched over the same loopback S3 and gunzipped.
    _ = try run("gzip -1 -c \(path) > \(root)/db.gz")
    let gzKey = try ObjectKey("floor/db.gz")
    try await store.put(gzKey, try Data(contentsOf: URL(fileURLWithPath: root + "/db.gz")))
    for round in 0..<3 {
        try? FileManager.default.removeItem(atPath: root + "/restored.sqlite")
        let started = ContinuousClock.now
        _ = try await PointInTimeRestore(store: store, sealer: sealer, name: "tenants/bench").restore(to: root + "/restored.sqlite")
        ours.append(seconds(ContinuousClock.now - started) / gib)
        try? FileManager.default.removeItem(atPath: root + "/floor.sqlite")
        let floorStarted = ContinuousClock.now
        guard let compressed = try await store.get(gzKey) else { fatalError("floor object missing") }
        try compressed.write(to: URL(fileURLWithPath: root + "/floor.gz"))
        _ = try run("gzip -d -c \(root)/floor.gz > \(root)/floor.sqlite")
        floors.append(seconds(ContinuousClock.now - floorStarted) / gib)
        print(String(format: "round %d: ours %.2f s/GiB, floor %.2f s/GiB", round + 1, ours.last!, floors.last!))
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    print("")
    print(String(format: "Restore from the bucket: database %.1f MiB, stored %.1f MiB (sealed, compressed); first ship (snapshot) %.2f s",
                 Double(bytes) / 1_048_576, Double(stored) / 1_048_576, seconds(shipTime)))
    print(String(format: "  ours: PointInTimeRestore (download, open, verify, write pages, integrity_check)  %.2f s/GiB (median of 3)", median(ours)))
    print(String(format: "  floor: GET of a gzip -1 copy + gunzip                                         %.2f s/GiB   ours/floor %.2fx",
                 median(floors), median(ours) / median(floors)))
} catch {
    await s3.stop()
    throw error
}
await s3.stop()

// MARK: Storage amplification over a simulated week
final class WeekClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now = Date(timeIntervalSince1970: 1_800_000_000)
    var date: Date { lock.withLock { now } }
    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}
let clock = WeekClock()
let weekStore = DirectoryObjectStore(root: root + "/week-store")
let weekPath = root + "/week.sqlite"
let weekDB = try makeDatabase(weekPath, megabytes: max(16, megabytes / 8))
var options = WALShipperOptions()
options.snapshotInterval = .seconds(86_400)
let weekShipper = try WALShipper(databasePath: weekPath, name: "tenants/week", store: weekStore, sealer: sealer, options: options, clock: { clock.date })
let rowsTotal = max(16, megabytes / 8) * 1024
let catalog = ReplicaCatalog(store: weekStore, sealer: sealer)
let policy = RetentionPolicy(window: .seconds(2 * 86_400))
print("")
print("A simulated week: a \(max(16, megabytes / 8)) MB database, 2% of rows updated every hour, shipped hourly, a generation a day, 2 days of history kept")
for day in 0..<days {
    for _ in 0..<24 {
        try weekDB.execute("BEGIN IMMEDIATE")
        try weekDB.withStatement("UPDATE items SET n = n + 1, body = body || 'x' WHERE id = ?") { statement in
            for _ in 0..<(rowsTotal / 50) {
                try statement.bind(.integer(Int64.random(in: 0..<Int64(rowsTotal))), at: 0)
                _ = try statement.step()
                statement.reset()
            }
        }
        try weekDB.execute("COMMIT")
        try await weekShipper.shipOnce()
        clock.advance(3600)
    }
    try await catalog.applyRetention(of: "tenants/week", policy: policy, now: clock.date)
    let stored = try await weekStore.list(prefix: "").reduce(Int64(0)) { $0 + $1.size }
    let database = fileSize(weekPath), log = fileSize(weekPath + "-wal")
    print(String(format: "  day %d: store %.1f MiB, database file %.1f MiB (+ %.1f MiB of log), store/database %.2fx", day + 1,
                 Double(stored) / 1_048_576, Double(database) / 1_048_576, Double(log) / 1_048_576, Double(stored) / Double(database)))
}
await weekShipper.close()
weekDB.close()
