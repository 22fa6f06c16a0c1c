import Foundation
import MailSyncStorage
import Synchronization
import Testing

@testable import MailSyncBackup

@Suite("Tenant backups: snapshot, verify, restore")
struct BackupTests {
    @Test("A backup taken while a writer keeps committing is one consistent commit, passes the checks, and restores row for row")
    func backupDuringWrites() async throws {
        var configuration = TenantBackups.Configuration()
        configuration.pagesPerStep = 16
        configuration.pauseBetweenSteps = .milliseconds(1)
        let fixture = try BackupFixture(configuration: configuration)
        let tenant = try await fixture.makeTenant(rows: 3_000, payloadBytes: 1_000)

        let commits = SharedCounter()
        let stop = SharedFlag()
        let pool = fixture.pool
        let writer = Task {
            while !stop.isSet {
                try await pool.withTenant(tenant) { lease in
                    try await lease.write { db in try BackupFixture.insert(db, label: "live", payloadBytes: 1_000) }
                }
                commits.increment()
            }
        }
        try await waitUntil("five commits before the backup") { commits.value >= 5 }
        let before = commits.value
        let outcome = try await fixture.backups.backup(tenant, force: true)
        let during = commits.value - before
        stop.set()
        try await writer.value
        #expect(!outcome.wasSkipped)
        #expect(during > 0, "the writer committed nothing while the backup ran: the test proves nothing")

        // The snapshot holds one commit: the counter matches the rows, which are a prefix of now.
        let id = try #require(BackupID(validating: outcome.manifest.id))
        let copy = fixture.path + "/copy.sqlite"
        let (manifest, version) = try fixture.backups.verifyNow(id, into: copy)
        #expect(manifest == outcome.manifest)
        #expect(version == 1)
        let snapshot = try BackupFixture.rows(inFile: copy)
        let final = try await fixture.rows(tenant)
        #expect(snapshot.counter == Int64(snapshot.rows.count))
        #expect(snapshot.rows.count >= 3_000 + before)
        #expect(snapshot.rows.count < final.count)
        #expect(Array(final.prefix(snapshot.rows.count)) == snapshot.rows)
        #expect(manifest.uncompressedSize > manifest.compressedSize)
        #expect(manifest.compressedSize == UInt64(FileSystem.mark(fixture.backups.dataPath(id))!.size))

        // Restore: exactly the rows at backup time; the replaced state is kept as a backup.
        let restored = try await fixture.backups.restore(id, into: tenant)
        #expect(restored.restored == manifest)
        let previous = try #require(restored.previousState)
        #expect(previous.id != manifest.id)
        #expect(try await fixture.rows(tenant) == snapshot.rows)
        let previousCopy = fixture.path + "/previous.sqlite"
        _ = try fixture.backups.verifyNow(try #require(BackupID(validating: previous.id)), into: previousCopy)
        #expect(try BackupFixture.rows(inFile: previousCopy).rows == final)
        // The restored tenant takes writes again.
        try await fixture.pool.withTenant(tenant) { lease in
            try await lease.write { db in try BackupFixture.insert(db, label: "after restore") }
        }
        #expect(try await fixture.rows(tenant).count == snapshot.rows.count + 1)
        await fixture.remove()
    }

    @Test("An unchanged tenant is skipped unless forced; a write, or a forced backup, makes a new one; list is newest first")
    func skipUnchanged() async throws {
        let fixture = try BackupFixture()
        let tenant = try await fixture.makeTenant(rows: 10)
        let first = try await fixture.backups.backup(tenant)
        #expect(!first.wasSkipped)
        let again = try await fixture.backups.backup(tenant)
        #expect(again == .skipped(first.manifest))
        // Closing the tenant (eviction) changes nothing either.
        #expect(await fixture.pool.evict(tenant))
        #expect(try await fixture.backups.backup(tenant) == .skipped(first.manifest))

        let forced = try await fixture.backups.backup(tenant, force: true)
        #expect(!forced.wasSkipped)
        #expect(forced.manifest.id != first.manifest.id)
        #expect(forced.manifest.databaseSHA256 == first.manifest.databaseSHA256)

        try await fixture.pool.withTenant(tenant) { lease in
            try await lease.write { db in try BackupFixture.insert(db, label: "new") }
        }
        let changed = try await fixture.backups.backup(tenant)
        #expect(!changed.wasSkipped)
        #expect(changed.manifest.databaseSHA256 != first.manifest.databaseSHA256)

        let listed = try await fixture.backups.list(tenant)
        #expect(listed.map(\.id) == [changed.manifest.id, forced.manifest.id, first.manifest.id])
        #expect(try await fixture.backups.list() == listed)
        // No temporary files are left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.backups.tenantDirectory(tenant))
        #expect(names.filter { $0.hasPrefix(".") }.isEmpty, "\(names)")
        #expect(names.count == 6)
        await fixture.remove()
    }

    @Test("backupAll runs every tenant, reports progress, and skips them all the second time")
    func backupAll() async throws {
        let fixture = try BackupFixture()
        var tenants: [TenantID] = []
        for n in 0..<5 { tenants.append(try await fixture.makeTenant(rows: n + 1)) }
        let calls = CallLog()
        let results = try await fixture.backups.backupAll(progress: { done, total in
            calls.append(done)
            #expect(total == 5)
        })
        #expect(results.map(\.0) == tenants.sorted())
        #expect(results.allSatisfy { (try? $0.1.get().wasSkipped) == false })
        #expect(calls.values == [1, 2, 3, 4, 5])
        let second = try await fixture.backups.backupAll(tenants)
        #expect(second.allSatisfy { (try? $0.1.get().wasSkipped) == true })
        // A tenant with no file is a per-tenant error, not a failure of the batch.
        let ghost = TenantID.random()
        let mixed = try await fixture.backups.backupAll([tenants[0], ghost])
        #expect((try? mixed[0].1.get())?.wasSkipped == true)
        if case .failure(let error) = mixed[1].1 { #expect(error.kind == .notFound) } else { Issue.record("a missing tenant was backed up") }
        await fixture.remove()
    }

    enum Damage: String, CaseIterable, Sendable {
        case flippedByte, truncated, otherTenantsFile, otherTenantsManifest, otherTenantsID
    }

    @Test("A corrupted, truncated or other company's backup is refused by verify and restore with a message saying which; live data untouched",
          arguments: Damage.allCases)
    func refused(damage: Damage) async throws {
        let fixture = try BackupFixture()
        let tenant = try await fixture.makeTenant(rows: 200)
        let other = try await fixture.makeTenant(rows: 50)
        let good = try await fixture.backups.backup(tenant).manifest
        let foreign = try await fixture.backups.backup(other).manifest
        let goodID = try #require(BackupID(validating: good.id))
        let foreignID = try #require(BackupID(validating: foreign.id))
        try await fixture.pool.withTenant(tenant) { lease in
            try await lease.write { db in try BackupFixture.insert(db, label: "after the backup") }
        }
        let liveBefore = try await fixture.rows(tenant)

        let target: BackupID
        let expected: BackupError.Kind
        let words: [String]
        switch damage {
        case .flippedByte:
            let path = fixture.backups.dataPath(goodID)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0x40
            try bytes.write(to: URL(fileURLWithPath: path))
            (target, expected, words) = (goodID, .corrupted, ["backup \(goodID) is corrupted", "SHA-256", "use another backup"])
        case .truncated:
            let path = fixture.backups.dataPath(goodID)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
            (target, expected, words) = (goodID, .truncated, ["backup \(goodID) is truncated", "of \(good.compressedSize) bytes"])
        case .otherTenantsFile:
            // The other company's database under this company's name, with a manifest that matches
            // it byte for byte: only the stamp inside tells.
            let id = BackupID(tenant: tenant, microseconds: good.createdAtMicroseconds + 1_000_000)
            try FileManager.default.copyItem(atPath: fixture.backups.dataPath(foreignID), toPath: fixture.backups.dataPath(id))
            var manifest = foreign
            manifest.id = id.description
            manifest.tenantID = tenant.pathComponent
            try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: fixture.backups.manifestPath(id)))
            (target, expected, words) = (id, .wrongTenant, ["holds the database of company \(other)", "not of company \(tenant)"])
        case .otherTenantsManifest:
            let id = BackupID(tenant: tenant, microseconds: good.createdAtMicroseconds + 1_000_000)
            try FileManager.default.copyItem(atPath: fixture.backups.dataPath(foreignID), toPath: fixture.backups.dataPath(id))
            try FileManager.default.copyItem(atPath: fixture.backups.manifestPath(foreignID), toPath: fixture.backups.manifestPath(id))
            (target, expected, words) = (id, .wrongTenant, ["of company \(other)", "copied or renamed"])
        case .otherTenantsID:
            (target, expected, words) = (foreignID, .wrongTenant, ["belongs to company \(other), not to company \(tenant)", "nothing was restored"])
        }

        if damage != .otherTenantsID {
            let verifyError = await #expect(throws: BackupError.self) { try await fixture.backups.verify(target) }
            #expect(verifyError?.kind == expected)
            for word in words where damage != .otherTenantsID { #expect(verifyError?.message.contains(word) == true, "\(verifyError?.message ?? "")") }
        }
        let restoreError = await #expect(throws: BackupError.self) { try await fixture.backups.restore(target, into: tenant) }
        #expect(restoreError?.kind == expected)
        for word in words { #expect(restoreError?.message.contains(word) == true, "\(restoreError?.message ?? "")") }

        // Live data untouched, no staged or temporary files left, and the tenant still serves.
        #expect(try await fixture.rows(tenant) == liveBefore)
        let names = try FileManager.default.contentsOfDirectory(atPath: fixture.pool.dataDirectory.tenantDirectory(tenant))
        #expect(names.filter { $0.hasPrefix(".") }.isEmpty, "\(names)")
        let backupNames = try FileManager.default.contentsOfDirectory(atPath: fixture.backups.tenantDirectory(tenant))
        #expect(backupNames.filter { $0.hasPrefix(".") }.isEmpty, "\(backupNames)")
        #expect(fixture.pool.statistics.offlineCount == 0)
        // The good backup (when not the damaged one) still restores.
        if damage != .flippedByte, damage != .truncated {
            _ = try await fixture.backups.restore(goodID, into: tenant)
            #expect(try await fixture.rows(tenant) == Array(liveBefore.dropLast()))
        }
        await fixture.remove()
    }

    @Test("Restoring while reads are in flight: every read sees the old data or the new, never an error or a mix, and never old after new")
    func restoreUnderLoad() async throws {
        let fixture = try BackupFixture()
        let tenant = try await fixture.makeTenant(rows: 100)
        let backup = try await fixture.backups.backup(tenant).manifest
        try await fixture.pool.withTenant(tenant) { lease in
            try await lease.write { db in for _ in 0..<100 { try BackupFixture.insert(db, label: "later") } }
        }
        let stop = SharedFlag()
        let pool = fixture.pool
        // Each reader counts its reads of the old data and of the new, so the test waits for
        // events (every reader has read before the restore, and again after it), not for time.
        let readsOfOld = (0..<4).map { _ in SharedCounter() }
        let readsOfNew = (0..<4).map { _ in SharedCounter() }
        let readers = (0..<4).map { index in
            Task { () -> [Int64] in
                var seen: [Int64] = []
                while !stop.isSet {
                    let (count, counter) = try await pool.withTenant(tenant) { lease in
                        try await lease.read { db in
                            try db.transaction(immediate: false) {
                                (try db.scalar("SELECT count(*) FROM items")?.int64 ?? -1, try db.scalar("SELECT n FROM counter")?.int64 ?? -2)
                            }
                        }
                    }
                    #expect(count == counter)
                    seen.append(count)
                    (count == 100 ? readsOfNew : readsOfOld)[index].increment()
                }
                return seen
            }
        }
        try await waitUntil("every reader has read the data before the restore") { readsOfOld.allSatisfy { $0.value >= 3 } }
        _ = try await fixture.backups.restore(try #require(BackupID(validating: backup.id)), into: tenant)
        try await waitUntil("every reader has read the restored data") { readsOfNew.allSatisfy { $0.value >= 3 } }
        stop.set()
        for reader in readers {
            let seen = try await reader.value
            #expect(Set(seen).isSubset(of: [100, 200]), "\(Set(seen))")
            #expect(seen.first == 200)
            #expect(seen.last == 100)
            let firstNew = seen.firstIndex(of: 100) ?? seen.endIndex
            #expect(!seen[firstNew...].contains(200))
        }
        await fixture.remove()
    }

    @Test("Backup ids: a stamp sorts by time and round-trips; anything else is refused")
    func ids() throws {
        let tenant = TenantID.random()
        let id = BackupID(tenant: tenant, microseconds: 1_790_000_000_123_456)
        #expect(id.stamp == "20260921T141320123456Z")
        #expect(id.microseconds == 1_790_000_000_123_456)
        #expect(BackupID(validating: id.description) == id)
        #expect(BackupID(tenant: tenant, microseconds: 1_790_000_000_123_457) > id)
        for bad in ["", tenant.pathComponent, "\(tenant)/", "\(tenant)/../x", "\(tenant)/20260921T141320123456", "x/20260921T141320123456Z",
                    "\(tenant)/20260921T14132012345aZ", "\(tenant)/20260921T141320123456Z/x", "../\(tenant)/20260921T141320123456Z"] {
            #expect(BackupID(validating: bad) == nil, "\(bad)")
        }
        #expect(throws: BackupError.self) { try TenantBackups.backupID("nope") }
    }
}
