// Backup benchmarks: an online backup of a ~1 GB tenant (MailSyncBackup: SQLite backup API under
// one read transaction, quick_check, zlib + SHA-256, manifest) while a writer keeps committing,
// beside the sqlite3 command-line tool's `.backup` followed by `gzip -1` in the same run; then
// verify and restore (through the tenant pool) of that backup.
//
//   cd Benchmarks && swift run -c release BackupBenchmarks [--size-mb N] [--rounds N] [--quick]
//       [--level N] [--threads N] [--no-store] [--pages-per-step N] [--writer-pause-ms N] [--peer-timeout S] [--no-plain-peer]
//       [--ours-only] [--data-dir PATH]
//
// See docs/benchmarks.md, "Backups".
import CSQLite
import Foundation
import Logging
import MailSyncBackup
import MailSyncEngine
import MailSyncService
import MailSyncStorage
import Synchronization

let settings = Settings.parse(CommandLine.arguments.dropFirst())
let root = settings.dataDirectory ?? (FileManager.default.temporaryDirectory.path + "/mailsync-backup-bench-\(getpid())")
let keep = settings.dataDirectory != nil
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
let peerDirectory = root + "/peer"
try FileManager.default.createDirectory(atPath: peerDirectory, withIntermediateDirectories: true)

var logger = Logger(label: "backup-bench")
logger.logLevel = .error
let environment = try await ServiceEnvironment.open(dataDirectory: root, logger: logger)
let pool = environment.tenants
let directory = Directory.make()
let target = UInt64(settings.sizeMB) * 1_048_576

let cliVersion = (try? {
    let pipe = Pipe()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = ["--version"]
    process.standardOutput = pipe
    try process.run()
    process.waitUntilExit()
    return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init) ?? "?"
}()) ?? "missing"
print("Mail Sync backup benchmarks — SQLite \(String(cString: sqlite3_libversion())) (ours), sqlite3 CLI \(cliVersion), data in \(root)")
print("tenant \(settings.sizeMB) MiB, \(settings.rounds) rounds; ours: zlib level \(settings.level), \(settings.threads ?? TenantBackups.Configuration().compressionThreads) deflate threads, \(settings.storesIncompressiblePages ? "pages that do not compress stored" : "every page deflated"), \(settings.pagesPerStep) pages per step; writer pause \(settings.writerPauseMs) ms; load \(loadAverage())")

// The tenant: reused from --data-dir when big enough, else made and filled.
var tenant: TenantID
let onDisk = try pool.dataDirectory.tenantIDsOnDisk()
if let existing = onDisk.first, fileSize(pool.dataDirectory.tenantDatabasePath(existing)) >= target * 9 / 10 {
    tenant = existing
    print("reusing tenant \(tenant) (\(String(format: "%.0f", mib(fileSize(pool.dataDirectory.tenantDatabasePath(tenant))))) MiB)")
} else {
    for old in onDisk { try? FileManager.default.removeItem(atPath: pool.dataDirectory.tenantDirectory(old)) }
    tenant = TenantID.random()
    let start = ContinuousClock.now
    let mails = try await fill(pool: pool, tenant: tenant, directory: directory, targetBytes: target)
    let elapsed = seconds(ContinuousClock.now - start)
    print(String(format: "filled tenant %@: %d mails, %.0f MiB in %.1f s (untimed)", tenant.description, mails,
                 mib(fileSize(pool.dataDirectory.tenantDatabasePath(tenant))), elapsed))
}
let live = pool.dataDirectory.tenantDatabasePath(tenant)
let composition = try await pool.withTenant(tenant) { lease in
    try await lease.read { db in
        try db.query("""
            SELECT (SELECT count(*) FROM messages), (SELECT sum(length(body_zlib)) + sum(length(raw_zlib)) FROM messages),
                   (SELECT count(*) FROM timeline_entries), (SELECT count(*) FROM timeline_participants), (SELECT count(*) FROM sync_events)
            """)[0].values.map { $0.int64 ?? 0 }
    }
}
print(String(format: "tenant rows: %d messages (zlib blobs %.0f MiB), %d timeline entries, %d participants, %d sync events",
             composition[0], mib(UInt64(composition[1])), composition[2], composition[3], composition[4]))

var configuration = TenantBackups.Configuration()
configuration.compressionLevel = settings.level
configuration.pagesPerStep = settings.pagesPerStep
if let threads = settings.threads { configuration.compressionThreads = threads }
configuration.storesIncompressiblePages = settings.storesIncompressiblePages
let backups = TenantBackups(pool: pool, configuration: configuration)
let tenantBackups = backups.directory + "/" + tenant.pathComponent

/// Samples files every 10 ms while something runs: the largest `-wal` seen, and when our
/// backup's compression step began (its `.sqlite.z.tmp` appeared).
final class Sampler: Sendable {
    private let state = Mutex<(wal: UInt64, compressStart: ContinuousClock.Instant?)>((0, nil))
    private let running = Atomic<Bool>(true)
    var largestWAL: UInt64 { state.withLock { $0.wal } }
    var compressStart: ContinuousClock.Instant? { state.withLock { $0.compressStart } }

    func start(wal: String, backupFolder: String) -> Task<Void, Never> {
        Task.detached { [self] in
            while running.load(ordering: .relaxed) {
                let size = fileSize(wal)
                var compressing = false
                if state.withLock({ $0.compressStart == nil }) {
                    compressing = ((try? FileManager.default.contentsOfDirectory(atPath: backupFolder)) ?? []).contains { $0.hasSuffix(".sqlite.z.tmp") }
                }
                let now = ContinuousClock.now
                state.withLock {
                    $0.wal = max($0.wal, size)
                    if compressing { $0.compressStart = now }
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }
    func stop() { running.store(false, ordering: .relaxed) }
}

struct Sample {
    var wall: Double
    var sourceBytes: UInt64
    var compressedBytes: UInt64
    var commitsPerSecond: Double
    var largestWAL: UInt64
    var detail: [String: Double] = [:]
}

let writer = Writer()
let writerTask = writer.start(pool: pool, tenant: tenant, directory: directory, pauseMs: settings.writerPauseMs)
var results: [String: [Sample]] = [:]
var status: Int32 = 0
let peerSnapshot = peerDirectory + "/peer.sqlite"
let peerOutput = peerDirectory + "/peer.sqlite.gz"

func measureWhileWriting<T>(_ body: () async throws -> T) async rethrows -> (T, Double, Double, UInt64, ContinuousClock.Instant, ContinuousClock.Instant?) {
    let sampler = Sampler()
    let sampling = sampler.start(wal: live + "-wal", backupFolder: tenantBackups)
    let before = writer.commitCount
    let start = ContinuousClock.now
    let value = try await body()
    let wall = seconds(ContinuousClock.now - start)
    let commits = Double(writer.commitCount - before) / wall
    sampler.stop()
    await sampling.value
    return (value, wall, commits, sampler.largestWAL, start, sampler.compressStart)
}

do {
    // The writer alone, for its commit rate without a backup.
    try await Task.sleep(for: .seconds(1))
    let idleBefore = writer.commitCount
    try await Task.sleep(for: .seconds(3))
    let idleRate = Double(writer.commitCount - idleBefore) / 3
    print(String(format: "writer alone: %.0f commits/s (one mail per transaction, through the tenant pool)", idleRate))
    print("")

    for round in 0..<settings.rounds {
        var sides = ["ours", "peer held", "peer plain"]
        if settings.skipPlainPeer || results["peer plain (timed out)"] != nil { sides.removeLast() }
        if round % 2 == 1 { sides.reverse() }
        if settings.oursOnly { sides = ["ours"] }
        var id: BackupID?
        for side in sides {
            if side == "ours" {
                let (outcome, wall, rate, wal, start, compressStart) = try await measureWhileWriting {
                    try await backups.backup(tenant, force: true)
                }
                let manifest = outcome.manifest
                id = BackupID(validating: manifest.id)
                var sample = Sample(wall: wall, sourceBytes: manifest.uncompressedSize, compressedBytes: manifest.compressedSize,
                                    commitsPerSecond: rate, largestWAL: wal)
                if let compressStart {
                    sample.detail["snapshot+check"] = seconds(compressStart - start)
                    sample.detail["compress+hash+sync"] = wall - seconds(compressStart - start)
                }
                results["ours", default: []].append(sample)
                print(String(format: "round %d ours:       %6.2f s  %7.1f MiB → %7.1f MiB  (snapshot+quick_check %.2f s, zlib+SHA-256+fsync %.2f s)  writer %.0f commits/s, WAL up to %.0f MiB",
                             round + 1, wall, mib(manifest.uncompressedSize), mib(manifest.compressedSize),
                             sample.detail["snapshot+check"] ?? -1, sample.detail["compress+hash+sync"] ?? -1, rate, mib(wal)))
            } else {
                let held = side == "peer held"
                let (peer, wall, rate, wal, _, _) = try await measureWhileWriting {
                    try Peer.run(source: live, snapshot: peerSnapshot, output: peerOutput, held: held, timeout: .seconds(settings.peerTimeout))
                }
                if peer.timedOut {
                    print(String(format: "round %d %@: .backup stopped after %.0f s without finishing (%.0f MiB written); writer %.0f commits/s",
                                 round + 1, side, wall, mib(peer.snapshotBytes), rate))
                    results[side + " (timed out)", default: []].append(Sample(wall: wall, sourceBytes: 0, compressedBytes: 0, commitsPerSecond: rate, largestWAL: wal))
                } else {
                    let sample = Sample(wall: wall, sourceBytes: peer.snapshotBytes, compressedBytes: peer.compressedBytes, commitsPerSecond: rate, largestWAL: wal,
                                        detail: ["backup": seconds(peer.backup), "gzip": seconds(peer.gzip)])
                    results[side, default: []].append(sample)
                    print(String(format: "round %d %@: %6.2f s  %7.1f MiB → %7.1f MiB  (.backup %.2f s, gzip -1 %.2f s)  writer %.0f commits/s, WAL up to %.0f MiB",
                                 round + 1, side.padding(toLength: 10, withPad: " ", startingAt: 0), wall, mib(peer.snapshotBytes), mib(peer.compressedBytes),
                                 seconds(peer.backup), seconds(peer.gzip), rate, mib(wal)))
                    if held && round == 0 {
                        // What the checks cost on this database: quick_check (in every backup) and
                        // integrity_check (in verify and restore), timed on the peer's plain copy.
                        var options = SQLiteConnection.Options()
                        options.walMode = false
                        let db = try SQLiteConnection(path: peerSnapshot, mode: .open, options: options)
                        for check in ["quick_check", "integrity_check"] {
                            let start = ContinuousClock.now
                            let answer = try db.scalar("PRAGMA \(check)")?.string ?? "?"
                            print(String(format: "         PRAGMA %@ on the copy: %.2f s (%@)", check, seconds(ContinuousClock.now - start), answer))
                        }
                        db.close()
                    }
                }
                try? FileManager.default.removeItem(atPath: peerSnapshot)
                try? FileManager.default.removeItem(atPath: peerOutput)
            }
        }
        guard let id else { throw PeerError("no backup id") }
        if settings.oursOnly {
            try? FileManager.default.removeItem(atPath: tenantBackups)
            continue
        }

        let verifyStart = ContinuousClock.now
        _ = try await backups.verify(id)
        let verify = seconds(ContinuousClock.now - verifyStart)
        results["verify", default: []].append(Sample(wall: verify, sourceBytes: 0, compressedBytes: 0, commitsPerSecond: 0, largestWAL: 0))

        _ = writer.takeLongestCommit()
        let (restored, restore, rate, _, _, _) = try await measureWhileWriting { try await backups.restore(id, into: tenant) }
        // The commit that waited for the tenant to come back ends just after the restore: wait for it.
        let committed = writer.commitCount
        while writer.commitCount < committed + 2, writer.error == nil { try await Task.sleep(for: .milliseconds(10)) }
        let stall = seconds(writer.takeLongestCommit())
        results["restore", default: []].append(Sample(wall: restore, sourceBytes: 0, compressedBytes: 0, commitsPerSecond: rate, largestWAL: 0, detail: ["stall": stall]))
        print(String(format: "round %d verify %.2f s; restore %.2f s (safety backup of the replaced state: %@), longest writer commit during it %.2f s, writer %.0f commits/s",
                     round + 1, verify, restore, restored.previousState == nil ? "none" : "yes", stall, rate))
        if let error = writer.error { throw PeerError("the writer failed: \(error)") }
        // Backups of this round (ours and the restore's safety copy) go: a GB each.
        try? FileManager.default.removeItem(atPath: tenantBackups)
    }
} catch {
    print("error: \(error)")
    status = 1
}
writer.stop()
await writerTask.value
if let error = writer.error { print("writer error: \(error)"); status = 1 }

func row(_ name: String, _ samples: [Sample], best: (Sample) -> Double, higherIsBetter: Bool, format: String) -> String {
    let values = samples.map(best)
    let bestValue = higherIsBetter ? values.max()! : values.min()!
    return "  " + name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: format, bestValue, median(values))
}

print("")
print("Summary (\(settings.rounds) rounds; best and median; MB = MiB)")
for side in ["ours", "peer held", "peer plain"] {
    guard let samples = results[side], !samples.isEmpty else { continue }
    let label = side == "ours" ? "ours (TenantBackups.backup)" : side == "peer held" ? "sqlite3 .backup in BEGIN + gzip -1" : "sqlite3 .backup + gzip -1"
    print(label)
    print(row("  wall time", samples, best: { $0.wall }, higherIsBetter: false, format: "%8.2f s    %8.2f s"))
    print(row("  source MB/s", samples, best: { mib($0.sourceBytes) / $0.wall }, higherIsBetter: true, format: "%8.1f      %8.1f"))
    print(row("  compressed MB/s (output)", samples, best: { mib($0.compressedBytes) / $0.wall }, higherIsBetter: true, format: "%8.1f      %8.1f"))
    print(row("  compression ratio", samples, best: { Double($0.sourceBytes) / Double(max(1, $0.compressedBytes)) }, higherIsBetter: true, format: "%8.3f      %8.3f"))
    print(row("  writer commits/s meanwhile", samples, best: { $0.commitsPerSecond }, higherIsBetter: true, format: "%8.0f      %8.0f"))
    print(row("  largest -wal meanwhile (MB)", samples, best: { mib($0.largestWAL) }, higherIsBetter: false, format: "%8.1f      %8.1f"))
}
if let samples = results["peer plain (timed out)"] {
    print("sqlite3 .backup + gzip -1 (plain): stopped after \(settings.peerTimeout) s without finishing in round \(samples.count), then left out; writer \(String(format: "%.0f", samples[0].commitsPerSecond)) commits/s meanwhile")
}
if let samples = results["verify"] {
    print(row("verify (ours)", samples, best: { $0.wall }, higherIsBetter: false, format: "%8.2f s    %8.2f s"))
}
if let samples = results["restore"] {
    print(row("restore (ours, through the pool)", samples, best: { $0.wall }, higherIsBetter: false, format: "%8.2f s    %8.2f s"))
    print(row("  longest writer commit meanwhile", samples, best: { $0.detail["stall"] ?? 0 }, higherIsBetter: false, format: "%8.2f s    %8.2f s"))
}
print("load average at the end: \(loadAverage())")

await environment.close()
if !keep { try? FileManager.default.removeItem(atPath: root) }
exit(status)
