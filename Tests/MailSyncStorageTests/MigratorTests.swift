import Foundation
import Testing

@testable import MailSyncStorage

extension StorageTests {
    @Suite struct MigratorTests {
        @Test func olderFileIsMigratedOnOpenAndKeepsItsData() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tenant = TenantID.random()

            let v1 = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let lease = try await v1.create(tenant)
            try await lease.write { db in try db.run("INSERT INTO marker (tenant, n) VALUES (?, 7)", [.text(tenant.pathComponent)]) }
            #expect(try await lease.read { try $0.userVersion() } == 1)
            lease.release()
            await v1.close()

            let v2 = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1, TestSchema.v2])
            let rows = try await v2.withTenant(tenant) { lease in
                try await lease.read { db in
                    (try db.userVersion(), try db.query("SELECT tenant, n, note FROM marker"))
                }
            }
            #expect(rows.0 == 2)
            #expect(rows.1 == [Row(columns: ["tenant", "n", "note"], values: [.text(tenant.pathComponent), 7, "migrated 7"])])
            await v2.close()
        }

        @Test func newerFileIsRefusedAndLeftUntouched() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let tenant = TenantID.random()
            let v2 = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1, TestSchema.v2])
            try await v2.create(tenant).release()
            await v2.close()

            let v1 = try TenantPool(dataDirectory: directory.dataDirectory, migrations: [TestSchema.v1])
            let error = await #expect(throws: StorageError.self) { try await v1.open(tenant) }
            #expect(error?.kind == .newerSchema)
            #expect(
                error?.message
                    == "\(directory.dataDirectory.tenantDatabasePath(tenant)) was written by a newer version of mailsync (schema 2, this build knows up to 1); upgrade the server or restore a backup"
            )
            #expect(v1.statistics.openCount == 0 && v1.statistics.openingCount == 0)
            await v1.close()

            let db = try SQLiteConnection(path: directory.dataDirectory.tenantDatabasePath(tenant), mode: .open)
            #expect(try db.userVersion() == 2)
        }

        @Test func failedStepLeavesTheLastCompletedVersion() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let db = try SQLiteConnection(path: directory.path + "/t.sqlite")
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE ok2 (x); SELECT nonsense FROM nowhere")
            let error = #expect(throws: StorageError.self) { try Migrator([TestSchema.v1, broken]).migrate(db) }
            #expect(error?.message.hasPrefix("migration 2 (broken) failed: ") == true)
            #expect(try db.userVersion() == 1)
            #expect(try db.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'ok2'") == .integer(0))
        }

        @Test(arguments: [[Int32(2)], [1, 3], [1, 1], [0]])
        func misnumberedListsAreRejected(_ versions: [Int32]) {
            let migrations = versions.map { Migration(version: $0, name: "m\($0)", sql: "SELECT 1") }
            let error = #expect(throws: StorageError.self) { try Migrator(migrations) }
            #expect(error?.kind == .invalidMigrations)
        }
    }
}
