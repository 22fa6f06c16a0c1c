import Foundation
import MailSyncStorage

/// The tenant schema of the benchmark: a leads table shaped like the product's.
let leadsMigration = Migration(
    version: 1,
    name: "leads",
    sql: """
        CREATE TABLE leads (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            company TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        )
        """
)

/// Creates tenant files until `count` are on disk (kept between runs with --data-dir).
func ensureTenants(data: DataDirectory, count: Int, capacity: Int) async throws -> [TenantID] {
    var tenants = try data.tenantIDsOnDisk()
    guard tenants.count < count else { return Array(tenants.prefix(count)) }
    let missing = count - tenants.count
    let pool = try TenantPool(dataDirectory: data, migrations: [leadsMigration], capacity: capacity)
    let start = ContinuousClock.now
    let created = try await withThrowingTaskGroup(of: TenantID.self) { group in
        var created: [TenantID] = []
        for n in 0..<missing {
            if n >= 4 { created.append(try await group.next()!) }
            group.addTask {
                let tenant = TenantID.random()
                try await pool.create(tenant).release()
                return tenant
            }
        }
        for try await tenant in group { created.append(tenant) }
        return created
    }
    await pool.close()
    tenants += created
    let elapsed = ContinuousClock.now - start
    print(String(format: "created %d tenant files in %.1f s (%.0f per second, 4 at a time)", missing, seconds(elapsed), Double(missing) / seconds(elapsed)))
    return tenants
}

/// Opens tenants never opened by this pool (cold: file open, stamp check, version check, WAL
/// set-up, thread start), one at a time, each followed by one small read and a release, so the
/// pool fills to capacity and then evicts on every open, as a busy server would.
func coldOpens(data: DataDirectory, tenants: [TenantID], settings: Settings) async throws {
    let pool = try TenantPool(dataDirectory: data, migrations: [leadsMigration], capacity: settings.capacity)
    let clock = ContinuousClock()
    var cold: [Duration] = []
    var firstQuery: [Duration] = []
    var warm: [Duration] = []
    var recent: [TenantID] = []
    for tenant in tenants.shuffled().prefix(settings.opens) {
        let start = clock.now
        let lease = try await pool.open(tenant)
        let opened = clock.now
        _ = try await lease.read { try $0.scalar("SELECT count(*) FROM leads") }
        let queried = clock.now
        lease.release()
        cold.append(opened - start)
        firstQuery.append(queried - start)
        recent.append(tenant)
        if recent.count > settings.capacity / 2 { recent.removeFirst() }
        // A warm open of a tenant that is still open, for contrast.
        if let again = recent.randomElement() {
            let start = clock.now
            let lease = try await pool.open(again)
            warm.append(clock.now - start)
            lease.release()
        }
    }
    let statistics = pool.statistics
    await pool.close()
    cold.sort()
    firstQuery.sort()
    warm.sort()
    print("Cold open (\(settings.tenants) tenant files on disk, pool capacity \(settings.capacity), \(cold.count) opens)")
    print("  case                               p50          p90          p99          max")
    for (name, samples) in [("open (lease ready)", cold), ("open + first query", firstQuery), ("warm open (already open)", warm)] {
        print(
            "  " + name.padding(toLength: 28, withPad: " ", startingAt: 0)
                + [50.0, 90, 99].map { microseconds(percentile(samples, $0)) }.joined(separator: "  ")
                + "  " + microseconds(samples.last!)
        )
    }
    print("  pool: \(statistics.opens) file opens, \(statistics.evictions) evictions, \(statistics.openCount) open at the end")
    print("")
}
