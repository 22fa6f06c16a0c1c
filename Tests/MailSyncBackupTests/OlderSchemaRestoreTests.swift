import Foundation
import MailSyncStorage
import Testing

@testable import MailSyncBackup

/// A backup taken by an older build (an older schema version) restored by a newer one: the file
/// goes back in place as it was and is migrated when the tenant is next opened, like any file an
/// older build left (the tenant schema's value rewrites, e.g. version 12's enum codes, included).
@Suite("Restoring a backup of an older schema version")
struct OlderSchemaRestoreTests {
    /// Version 2 of the fixture's schema: a data rewrite of every existing row, the way a real
    /// value-rewriting migration works (tenant migration 12 turns numbers into codes).
    static let newer = BackupFixture.schema + [
        Migration(version: 2, name: "labels upper-cased", sql: "UPDATE items SET label = upper(label);")
    ]

    @Test("a version-1 backup restores under a version-2 server, is migrated on open and reads back rewritten")
    func restoreOlder() async throws {
        let old = try BackupFixture()
        let tenant = try await old.makeTenant(rows: 3)
        let taken = try await old.backups.backup(tenant, force: true)
        #expect(taken.manifest.schemaVersion == 1)
        await old.pool.close()

        let new = try BackupFixture(path: old.path, schema: Self.newer)
        // The live file moves on to version 2 and gains a row the backup does not have.
        try await new.pool.withTenant(tenant) { lease in
            try await lease.write { db in try BackupFixture.insert(db, label: "after upgrade") }
        }
        let id = try #require(BackupID(validating: taken.manifest.id))
        let restored = try await new.backups.restore(id, into: tenant)
        #expect(restored.restored.schemaVersion == 1)

        let (version, labels) = try await new.pool.withTenant(tenant) { lease in
            try await lease.read { db in
                (try db.userVersion(), try db.query("SELECT label FROM items ORDER BY id").compactMap { $0[0].string })
            }
        }
        #expect(version == 2)
        #expect(labels == ["ITEM 0", "ITEM 1", "ITEM 2"])
        await new.remove()
    }
}
