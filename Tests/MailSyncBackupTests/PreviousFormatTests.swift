import Foundation
import MailSyncStorage
import Testing

@testable import MailSyncBackup

@Suite("Backups written before parallel compression")
struct PreviousFormatTests {
    @Test("A backup whose file is one level-1 deflate stream (as written before ParallelZlib) still verifies and restores")
    func singleStreamBackupRestores() async throws {
        let fixture = try BackupFixture()
        let tenant = try await fixture.makeTenant(rows: 2_000, payloadBytes: 600)
        let current = try await fixture.backups.backup(tenant).manifest
        let id = try #require(BackupID(validating: current.id))
        let rowsThen = try await fixture.rows(tenant)

        // Rewrite the backup as the previous code did: the same database, one zlib stream.
        let database = fixture.path + "/database.sqlite"
        _ = try fixture.backups.verifyNow(id, into: database)
        let previous = try TestBytes.deflate(Array(try Data(contentsOf: URL(fileURLWithPath: database))))
        let path = fixture.backups.dataPath(id)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) != Data(previous), "the old and new encodings are the same: the test proves nothing")
        try Data(previous).write(to: URL(fileURLWithPath: path))
        var manifest = current
        manifest.compressedSize = UInt64(previous.count)
        manifest.sha256 = try ZlibStream.sha256(of: path).hex
        try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: fixture.backups.manifestPath(id)))

        #expect(try await fixture.backups.verify(id) == manifest)
        try await fixture.pool.withTenant(tenant) { lease in
            try await lease.write { db in try BackupFixture.insert(db, label: "after the backup") }
        }
        let outcome = try await fixture.backups.restore(id, into: tenant)
        #expect(outcome.restored == manifest)
        #expect(try await fixture.rows(tenant) == rowsThen)
        await fixture.remove()
    }
}
