import Foundation
import Testing

@testable import MailSyncStorage

extension StorageTests {
    @Suite struct FileStampTests {
        @Test func fileCopiedIntoAnotherTenantsDirectoryIsRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let data = directory.dataDirectory
            let (a, b) = (TenantID.random(), TenantID.random())
            let pool = try TenantPool(dataDirectory: data, migrations: [TestSchema.v1])
            try await pool.create(a).release()
            await pool.close()  // checkpoints: the whole database is in tenant.sqlite

            try FileManager.default.createDirectory(atPath: data.tenantDirectory(b), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: data.tenantDatabasePath(a), toPath: data.tenantDatabasePath(b))
            let reopened = try TenantPool(dataDirectory: data, migrations: [TestSchema.v1])
            let error = await #expect(throws: StorageError.self) { try await reopened.open(b) }
            #expect(error?.kind == .wrongOwner)
            #expect(
                error?.message
                    == "\(data.tenantDatabasePath(b)) is stamped for tenant \(a), expected \(b): the file was moved or restored into the wrong place"
            )
            // The rightful owner still opens.
            try await reopened.open(a).release()
            await reopened.close()
        }

        @Test func foreignFileIsRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let data = directory.dataDirectory
            let tenant = TenantID.random()
            try FileManager.default.createDirectory(atPath: data.tenantDirectory(tenant), withIntermediateDirectories: true)
            do {
                let db = try SQLiteConnection(path: data.tenantDatabasePath(tenant))
                try db.execute("CREATE TABLE whatever (x)")
            }
            let pool = try TenantPool(dataDirectory: data, migrations: [TestSchema.v1])
            let error = await #expect(throws: StorageError.self) { try await pool.open(tenant) }
            #expect(error?.kind == .wrongApplicationID)
            #expect(error?.message.contains("is not a Mail Sync tenant file (it has no application id)") == true)
            // create() will not take over a file that holds something either.
            let createError = await #expect(throws: StorageError.self) { try await pool.create(tenant) }
            #expect(createError?.kind == .alreadyExists)
            await pool.close()
        }

        @Test func controlDatabaseInATenantsPlaceIsRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let data = directory.dataDirectory
            let control = try await ControlDatabase.open(dataDirectory: data, migrations: [])
            await control.close()
            let tenant = TenantID.random()
            try FileManager.default.createDirectory(atPath: data.tenantDirectory(tenant), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: data.controlDatabasePath, toPath: data.tenantDatabasePath(tenant))
            let pool = try TenantPool(dataDirectory: data, migrations: [])
            let error = await #expect(throws: StorageError.self) { try await pool.open(tenant) }
            #expect(error?.kind == .wrongApplicationID)
            #expect(error?.message.contains("it is a Mail Sync control database") == true)
            await pool.close()
        }

        @Test func symlinkedTenantFileIsRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let data = directory.dataDirectory
            let (a, b) = (TenantID.random(), TenantID.random())
            let pool = try TenantPool(dataDirectory: data, migrations: [TestSchema.v1])
            try await pool.create(a).release()
            try FileManager.default.createDirectory(atPath: data.tenantDirectory(b), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: data.tenantDatabasePath(b), withDestinationPath: data.tenantDatabasePath(a))
            let error = await #expect(throws: StorageError.self) { try await pool.open(b) }
            #expect(error?.kind == .sqlite)
            #expect(error?.message.contains("unable to open") == true)

            // A symlinked tenant directory is refused too.
            let c = TenantID.random()
            try FileManager.default.createSymbolicLink(atPath: data.tenantDirectory(c), withDestinationPath: data.tenantDirectory(a))
            let directoryError = await #expect(throws: StorageError.self) { try await pool.open(c) }
            #expect(directoryError?.message.contains("is not a directory") == true)
            await pool.close()
        }

        @Test func controlDatabaseIsCreatedStampedAndReopened() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let data = DataDirectory(directory.path + "/data/")
            let migrations = [Migration(version: 1, name: "tenants", sql: "CREATE TABLE tenants (id TEXT PRIMARY KEY)")]
            let control = try await ControlDatabase.open(dataDirectory: data, migrations: migrations)
            #expect(control.path == directory.path + "/data/control.sqlite")
            #expect(control.schemaVersion == 1)
            try await control.write { try $0.run("INSERT INTO tenants VALUES ('x')") }
            #expect(try await control.read { try $0.applicationID() } == FileStamp.controlApplicationID)
            await control.close()
            let mode = try FileManager.default.attributesOfItem(atPath: data.root)[.posixPermissions] as? Int
            #expect(mode == 0o700)

            let again = try await ControlDatabase.open(dataDirectory: data, migrations: migrations)
            #expect(try await again.read { try $0.scalar("SELECT id FROM tenants") } == .text("x"))
            await again.close()
        }
    }

    @Suite struct TenantIDTests {
        @Test(arguments: [
            "3F2C8A4E-1B2D-4C3E-8F9A-0B1C2D3E4F5A", "3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a",
        ])
        func canonicalFormsParseToOneLowercasePath(_ text: String) throws {
            let id = try #require(TenantID(validating: text))
            #expect(id.pathComponent == "3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a")
            #expect(DataDirectory("/d/").tenantDatabasePath(id) == "/d/tenants/3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a/tenant.sqlite")
        }

        @Test(arguments: [
            "", "..", "../../etc", "acme", "3f2c8a4e1b2d4c3e8f9a0b1c2d3e4f5a", "{3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a}",
            " 3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a", "3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a\n", "3f2c8a4e-1b2d-4c3e-8f9a/0b1c2d3e4f5a",
            "3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5g", "urn:uuid:3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a", "3f2c8a4e-1b2d-4c3e-8f9a-0b1c2d3e4f5a\u{0}",
        ])
        func everythingElseIsRejected(_ text: String) {
            #expect(TenantID(validating: text) == nil)
        }
    }
}
