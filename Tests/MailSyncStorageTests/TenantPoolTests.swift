import Foundation
import Testing

@testable import MailSyncStorage

extension StorageTests {
    @Suite struct TenantPoolTests {
        /// The scale test: 1,000 tenants through a pool capped at 50, then a restart.
        @Test func thousandTenantsWithCapFiftyStayBoundedAndSurviveRestart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let data = directory.dataDirectory
            let cap = 50
            let baseline = openFileDescriptors(under: directory.path)
            #expect(baseline.under == 0)
            var peakUnder = 0
            var peakTotal = baseline.total

            func sample() {
                let now = openFileDescriptors(under: directory.path)
                peakUnder = max(peakUnder, now.under)
                peakTotal = max(peakTotal, now.total)
            }

            let tenants = (0..<1000).map { _ in TenantID.random() }
            let pool = try TenantPool(dataDirectory: data, migrations: [TestSchema.v1], capacity: cap)
            for (n, tenant) in tenants.enumerated() {
                let lease = try await pool.create(tenant)
                try await lease.write { db in
                    try db.run("INSERT INTO marker (tenant, n) VALUES (?, ?)", [.text(tenant.pathComponent), .integer(Int64(n))])
                }
                lease.release()
                if n % 10 == 0 { sample() }
            }
            // Query every tenant, in a different order, eight at a time.
            let order = Array(tenants.enumerated()).shuffled()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (slot, (n, tenant)) in order.enumerated() {
                    if slot >= 8 { try await group.next() }
                    group.addTask {
                        let rows = try await pool.withTenant(tenant) { lease in
                            try await lease.read { try $0.query("SELECT tenant, n FROM marker") }
                        }
                        #expect(rows.map(\.values) == [[.text(tenant.pathComponent), .integer(Int64(n))]])
                    }
                    if slot % 10 == 0 { sample() }
                }
                try await group.waitForAll()
            }
            sample()
            let statistics = pool.statistics
            #expect(statistics.openCount <= cap)
            #expect(statistics.leaseCount == 0)
            #expect(statistics.evictions >= 1000 + 1000 - 2 * cap)
            #expect(statistics.opens >= 1000 + 1000 - cap)
            // WAL holds 3 descriptors per open tenant; evicted ones close in the background, at
            // most a quarter of the cap at once before opens wait (plus one per concurrent opener).
            // Only descriptors under this test's directory count: other tests run alongside.
            let bound = (cap + cap / 4 + 16) * 3 + 16
            #expect(peakUnder <= bound, "peak descriptors under the data directory: \(peakUnder), bound \(bound)")
            _ = peakTotal
            await pool.close()
            #expect(openFileDescriptors(under: directory.path).under == 0)

            // Restart: a new pool over the same directory reads everything back.
            #expect(try data.tenantIDsOnDisk() == tenants.sorted())
            let restarted = try TenantPool(dataDirectory: data, migrations: [TestSchema.v1], capacity: cap)
            for (n, tenant) in tenants.enumerated() {
                let value = try await restarted.withTenant(tenant) { lease in
                    try await lease.read { try $0.scalar("SELECT n FROM marker WHERE tenant = ?", [.text(tenant.pathComponent)]) }
                }
                #expect(value == .integer(Int64(n)))
            }
            #expect(restarted.statistics.openCount <= cap)
            await restarted.close()
        }

        @Test func concurrentWritersToOneTenantSerialize() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tenant = TenantID.random()
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            try await pool.create(tenant).write { try $0.run("INSERT INTO marker (id, tenant, n) VALUES (1, 'counter', 0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        for _ in 0..<25 {
                            try await pool.withTenant(tenant) { lease in
                                // Read-modify-write: lost updates would show if writers overlapped.
                                try await lease.write { db in
                                    let n = try db.scalar("SELECT n FROM marker WHERE id = 1")?.int64 ?? -1
                                    try db.run("UPDATE marker SET n = ? WHERE id = 1", [.integer(n + 1)])
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let n = try await pool.withTenant(tenant) { lease in try await lease.read { try $0.scalar("SELECT n FROM marker WHERE id = 1") } }
            #expect(n == .integer(500))
            #expect(pool.statistics.opens == 1)
            await pool.close()
        }

        @Test func heldLeaseIsNeverEvicted() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (a, b, c) = (TenantID.random(), TenantID.random(), TenantID.random())
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1], capacity: 2)
            let leaseA = try await pool.create(a)
            try await pool.create(b).release()
            try await pool.create(c).release()
            #expect(pool.statistics.evictions == 1)  // b, not a
            #expect(pool.statistics.openCount == 2)
            try await leaseA.write { try $0.run("INSERT INTO marker (tenant, n) VALUES ('a', 1)") }
            let opens = pool.statistics.opens
            try await pool.open(a).release()
            #expect(pool.statistics.opens == opens)  // a was still open

            // Every tenant leased: the pool goes over capacity, then shrinks back on release.
            let leaseB = try await pool.open(b)
            let leaseC = try await pool.open(c)
            #expect(pool.statistics.openCount == 3)
            leaseB.release()
            leaseC.release()
            #expect(pool.statistics.openCount == 2)
            leaseA.release()
            await pool.close()
        }

        @Test func concurrentOpensOfOneTenantCoalesce() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tenant = TenantID.random()
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            try await pool.create(tenant).release()
            await pool.close()
            let reopened = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask { try await reopened.withTenant(tenant) { lease in _ = try await lease.read { try $0.userVersion() } } }
                }
                try await group.waitForAll()
            }
            #expect(reopened.statistics.opens == 1)
            #expect(reopened.statistics.hits == 15)
            await reopened.close()
        }

        @Test func missingTenantAndDoubleCreateAreRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tenant = TenantID.random()
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let missing = await #expect(throws: StorageError.self) { try await pool.open(tenant) }
            #expect(missing?.kind == .notFound)
            #expect(!FileManager.default.fileExists(atPath: directory.dataDirectory.tenantDirectory(tenant)))
            let lease = try await pool.create(tenant)
            let whileOpen = await #expect(throws: StorageError.self) { try await pool.create(tenant) }
            #expect(whileOpen?.kind == .alreadyExists)
            lease.release()
            await pool.close()
            let again = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let whileClosed = await #expect(throws: StorageError.self) { try await again.create(tenant) }
            #expect(whileClosed?.kind == .alreadyExists)
            let mode = try FileManager.default.attributesOfItem(atPath: directory.dataDirectory.tenantDirectory(tenant))[.posixPermissions] as? Int
            #expect(mode == 0o700)
            await again.close()
        }

        @Test func closedPoolRefusesWork() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tenant = TenantID.random()
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let lease = try await pool.create(tenant)
            await pool.close()
            let error = await #expect(throws: StorageError.self) { try await lease.read { try $0.userVersion() } }
            #expect(error?.kind == .closed)
            let openError = await #expect(throws: StorageError.self) { try await pool.open(tenant) }
            #expect(openError?.kind == .closed)
            lease.release()
        }
    }
}
