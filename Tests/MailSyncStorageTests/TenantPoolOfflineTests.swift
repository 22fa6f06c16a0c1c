import Foundation
import Synchronization
import Testing

@testable import MailSyncStorage

extension StorageTests {
    @Suite struct TenantPoolOfflineTests {
        @Test func takeOfflineWaitsForLeasesHoldsNewOpensAndBringOnlineReopens() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1], capacity: 4)
            let tenant = TenantID.random()
            let lease = try await pool.create(tenant)
            try await lease.write { try $0.run("INSERT INTO marker (tenant, n) VALUES ('old', 1)") }

            let offline = Flag()
            let goingOffline = Task {
                try await pool.takeOffline(tenant)
                offline.set()
            }
            // Once the tenant is marked offline, takeOffline waits for the held lease.
            try await waitUntil("the tenant marked offline") { pool.statistics.offlineCount == 1 }
            #expect(!offline.isSet, "went offline while a lease was held")
            // The held lease still works.
            #expect(try await lease.read { try $0.scalar("SELECT n FROM marker")?.int64 } == 1)

            // A new open waits.
            let opened = Flag()
            let waiting = Task { () -> String? in
                let value = try await pool.withTenant(tenant) { lease in
                    try await lease.read { try $0.scalar("SELECT tenant FROM marker")?.string }
                }
                opened.set()
                return value
            }
            try await waitUntil("an open waiting for the tenant to come online") { pool.statistics.waitingForOnline == 1 }

            lease.release()
            try await goingOffline.value
            #expect(offline.isSet)
            #expect(pool.statistics.openCount == 0)
            #expect(pool.statistics.closingCount == 0)
            #expect(openFileDescriptors(under: directory.path).under == 0, "the file is still open while offline")

            // Replace the file while offline; the waiting open sees only the new one.
            let path = directory.dataDirectory.tenantDatabasePath(tenant)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let replacement = try SQLiteConnection(path: path + ".new", mode: .create)
            try FileStamp.tenant(tenant).write(to: replacement)
            try Migrator([TestSchema.v1]).migrate(replacement)
            try replacement.run("INSERT INTO marker (tenant, n) VALUES ('new', 2)")
            try replacement.execute("PRAGMA journal_mode=DELETE")
            replacement.close()
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: path + ".new", toPath: path)
            // The open is still parked waiting for the tenant, not through.
            #expect(pool.statistics.waitingForOnline == 1)
            #expect(!opened.isSet, "an open got through while offline")

            pool.bringOnline(tenant)
            #expect(try await waiting.value == "new")
            #expect(pool.statistics.offlineCount == 0)
            #expect(pool.statistics.waitingForOnline == 0)
            await pool.close()
        }

        @Test func offlineTwiceIsRefusedAndAnUnopenedTenantGoesOfflineAtOnce() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let tenant = TenantID.random()
            try await pool.create(tenant).release()
            #expect(await pool.evict(tenant))
            try await pool.takeOffline(tenant)
            let error = await #expect(throws: StorageError.self) { try await pool.takeOffline(tenant) }
            #expect(error?.kind == .offline)
            // Other tenants are not affected.
            try await pool.create(TenantID.random()).release()
            pool.bringOnline(tenant)
            try await pool.withTenantOffline(tenant) {}
            // Brought back while still waiting for a lease: the takeOffline gives up.
            let lease = try await pool.open(tenant)
            let draining = Task { try await pool.takeOffline(tenant) }
            try await waitUntil("the tenant marked offline") { pool.statistics.offlineCount == 1 }
            pool.bringOnline(tenant)
            let abandoned = await #expect(throws: StorageError.self) { try await draining.value }
            #expect(abandoned?.kind == .offline)
            #expect(try await lease.read { try $0.scalar("SELECT count(*) FROM marker")?.int64 } == 0)
            lease.release()
            try await pool.open(tenant).release()
            await pool.close()
        }

        @Test func closingThePoolFailsOpensWaitingForAnOfflineTenant() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let pool = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let tenant = TenantID.random()
            try await pool.create(tenant).release()
            try await pool.takeOffline(tenant)
            let waiting = Task { try await pool.open(tenant) }
            try await waitUntil("an open waiting for the tenant to come online") { pool.statistics.waitingForOnline == 1 }
            await pool.close()
            let error = await #expect(throws: StorageError.self) { try await waiting.value }
            #expect(error?.kind == .closed)
        }
    }
}

/// A flag shareable with tasks (`Atomic` itself cannot be captured).
private final class Flag: Sendable {
    private let atomic = Atomic<Bool>(false)
    var isSet: Bool { atomic.load(ordering: .sequentiallyConsistent) }
    func set() { atomic.store(true, ordering: .sequentiallyConsistent) }
}
