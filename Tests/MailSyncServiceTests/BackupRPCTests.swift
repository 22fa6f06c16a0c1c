import Foundation
import MailSyncClient
@testable import MailSyncService
import MailSyncStorage
import Synchronization
import Testing

/// BackupTenant, RestoreTenant, VerifyBackup and ListBackups through the generated client, as an
/// operator, against a real server writing real files.
@Suite("Backups through the API", .timeLimit(.minutes(5)))
struct BackupRPCTests {
    /// Every lead and address of a company, sorted: the rows compared before and after a restore.
    static func leadRows(_ harness: ServiceHarness, _ company: ServiceHarness.Company) async throws -> [[String]] {
        try await harness.withTenantDatabase(company) { db in
            let leads = try db.query("SELECT id, name, company_name FROM leads ORDER BY id").map { $0.values.map { "\($0)" } }
            let addresses = try db.query("SELECT lead_id, address FROM lead_addresses ORDER BY lead_id, address").map { ["@"] + $0.values.map { "\($0)" } }
            return leads + addresses
        }
    }

    static func lead(_ id: String) -> Lead {
        var lead = Lead()
        lead.id = id
        lead.name = "Lead \(id)"
        lead.emailAddresses = ["\(id)@example.com", "\(id)@example.org"]
        return lead
    }

    static func backupFile(_ harness: ServiceHarness, _ backup: Backup) -> String {
        harness.dataDirectory + "/backups/" + backup.id + ".sqlite.z"
    }

    @Test("A backup taken while leads are upserted in a loop holds one consistent state, verifies, and restores to exactly it, row by row")
    func backupWhileWriting() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        _ = try await company.admin.upsertLeads { writer in
            for i in 0..<500 { try await writer.write(Self.lead("base-\(i)")) }
        }
        let committed = Counter()
        let stop = Flag()
        let admin = company.admin
        let writer = Task {
            var i = 0
            while !stop.isSet {
                _ = try await admin.upsertLeads { try await $0.write(Self.lead("live-\(String(format: "%05d", i))")) }
                i += 1
                committed.set(i)
            }
        }
        try await waitUntil(.seconds(60)) { committed.value >= 3 }
        let before = committed.value
        var request = BackupTenantRequest()
        request.companyId = company.id
        let backup = try await harness.operatorClient.backupTenant(request)
        let after = committed.value
        stop.set()
        try await writer.value
        #expect(backup.companyId == company.id)
        #expect(backup.id.hasPrefix(company.id + "/"))
        #expect(backup.sizeBytes > 0)
        #expect(backup.sha256.count == 64)

        var verify = VerifyBackupRequest()
        verify.backupId = backup.id
        let verified = try await harness.operatorClient.verifyBackup(verify)
        #expect(verified.ok, "\(verified.detail)")

        let final = try await Self.leadRows(harness, company)
        var restore = RestoreTenantRequest()
        restore.backupId = backup.id
        restore.companyId = company.id
        let response = try await harness.operatorClient.restoreTenant(restore)
        #expect(response.restored.id == backup.id)
        #expect(!response.previousState.id.isEmpty)
        #expect(response.previousState.id != backup.id)

        // The restored rows are exactly the final rows of the leads committed by the backup's
        // snapshot: the base ones and live-0 … live-(k-1), with before ≤ k ≤ after.
        let restored = try await Self.leadRows(harness, company)
        let liveLeads = restored.filter { $0.count == 3 && $0[0].contains("live-") }.count
        #expect(liveLeads >= before && liveLeads <= after, "snapshot has \(liveLeads) live leads; \(before) were committed before the backup, \(after) after")
        let kept = Set((0..<500).map { "base-\($0)" } + (0..<liveLeads).map { "live-\(String(format: "%05d", $0))" })
        let expected = final.filter { row in
            let id = row[0] == "@" ? row[1] : row[0]
            return kept.contains { id.contains($0) }
        }
        #expect(restored == expected)
        #expect(restored.count == (500 + liveLeads) * 3)

        // The previous state is a backup too, and restoring it brings the final rows back.
        restore.backupId = response.previousState.id
        _ = try await harness.operatorClient.restoreTenant(restore)
        #expect(try await Self.leadRows(harness, company) == final)
        await harness.stop()
    }

    @Test("BackupTenant returns the latest backup while the company is unchanged unless forced; ListBackups is newest first, per company or all, paged")
    func skipAndList() async throws {
        let harness = try await ServiceHarness.start()
        let acme = try await harness.makeCompany(name: "Acme")
        let globex = try await harness.makeCompany(name: "Globex")
        var request = BackupTenantRequest()
        request.companyId = acme.id
        let first = try await harness.operatorClient.backupTenant(request)
        let same = try await harness.operatorClient.backupTenant(request)
        #expect(!first.reused && same.reused)
        #expect(same.id == first.id && same.sha256 == first.sha256)
        // Asked for, a backup is taken even though nothing changed.
        harness.clock.advance(seconds: 1)
        var forced = request
        forced.force = true
        let again = try await harness.operatorClient.backupTenant(forced)
        #expect(!again.reused && again.id != first.id)
        harness.clock.advance(seconds: 1)
        _ = try await acme.admin.upsertLeads { try await $0.write(Self.lead("new")) }
        let second = try await harness.operatorClient.backupTenant(request)
        #expect(second.id != first.id)
        request.companyId = globex.id
        let other = try await harness.operatorClient.backupTenant(request)

        var list = ListBackupsRequest()
        list.companyId = acme.id
        #expect(try await harness.operatorClient.listBackups(list).backups.map(\.id) == [second.id, again.id, first.id])
        list.companyId = ""
        let all = try await harness.operatorClient.listBackups(list).backups
        #expect(Set(all.map(\.id)) == [first.id, again.id, second.id, other.id])
        list.pageSize = 2
        let page1 = try await harness.operatorClient.listBackups(list)
        list.pageToken = page1.nextPageToken
        let page2 = try await harness.operatorClient.listBackups(list)
        #expect(page1.backups.count == 2)
        #expect(page2.backups.map(\.id) + page1.backups.map(\.id) != [])
        #expect((page1.backups + page2.backups).map(\.id) == all.map(\.id))
        #expect(page2.nextPageToken.isEmpty)

        // Clear refusals for bad input.
        request.companyId = UUID().uuidString.lowercased()
        let missing = await #expect(throws: RPCError.self) { try await harness.operatorClient.backupTenant(request) }
        #expect(missing?.code == .notFound)
        var verify = VerifyBackupRequest()
        verify.backupId = "../../etc/passwd"
        let invalid = await #expect(throws: RPCError.self) { try await harness.operatorClient.verifyBackup(verify) }
        #expect(invalid?.code == .invalidArgument)
        verify.backupId = acme.id + "/20200101T000000000000Z"
        let unknown = await #expect(throws: RPCError.self) { try await harness.operatorClient.verifyBackup(verify) }
        #expect(unknown?.code == .notFound)
        // Not for company administrators.
        request.companyId = acme.id
        let denied = await #expect(throws: RPCError.self) { try await acme.admin.backupTenant(request) }
        #expect(denied?.code == .permissionDenied)
        await harness.stop()
    }

    enum Damage: String, CaseIterable, Sendable { case flippedByte, truncated, otherCompanysBackup, otherCompanysFile }

    @Test("A corrupted, truncated or other company's backup: VerifyBackup says what is wrong, RestoreTenant refuses, live data untouched",
          arguments: Damage.allCases)
    func refused(damage: Damage) async throws {
        let harness = try await ServiceHarness.start()
        let acme = try await harness.makeCompany(name: "Acme")
        let globex = try await harness.makeCompany(name: "Globex")
        _ = try await acme.admin.upsertLeads { for i in 0..<50 { try await $0.write(Self.lead("acme-\(i)")) } }
        _ = try await globex.admin.upsertLeads { for i in 0..<5 { try await $0.write(Self.lead("globex-\(i)")) } }
        var request = BackupTenantRequest()
        request.companyId = acme.id
        let good = try await harness.operatorClient.backupTenant(request)
        request.companyId = globex.id
        let foreign = try await harness.operatorClient.backupTenant(request)
        _ = try await acme.admin.upsertLeads { try await $0.write(Self.lead("acme-after")) }
        let live = try await Self.leadRows(harness, acme)

        var target = good.id
        let verifyWords: [String]
        let restoreWords: [String]
        switch damage {
        case .flippedByte:
            let path = Self.backupFile(harness, good)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 3] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: path))
            verifyWords = ["backup \(good.id) is corrupted", "use another backup"]
            restoreWords = verifyWords
        case .truncated:
            let path = Self.backupFile(harness, good)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
            verifyWords = ["backup \(good.id) is truncated", "of \(good.sizeBytes) bytes"]
            restoreWords = verifyWords
        case .otherCompanysBackup:
            target = foreign.id
            verifyWords = []
            restoreWords = ["belongs to company \(globex.id), not to company \(acme.id)", "nothing was restored"]
        case .otherCompanysFile:
            // Globex's backup files put in Acme's backups under a new name, manifest rewritten to match.
            let folder = harness.dataDirectory + "/backups/" + acme.id + "/"
            let stamp = "20991231T000000000000Z"
            target = acme.id + "/" + stamp
            try FileManager.default.copyItem(atPath: Self.backupFile(harness, foreign), toPath: folder + stamp + ".sqlite.z")
            var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: harness.dataDirectory + "/backups/" + foreign.id + ".json"))) as! [String: Any]
            manifest["id"] = target
            manifest["tenant_id"] = acme.id
            try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: folder + stamp + ".json"))
            verifyWords = ["holds the database of company \(globex.id), not of company \(acme.id)"]
            restoreWords = verifyWords
        }

        if !verifyWords.isEmpty {
            var verify = VerifyBackupRequest()
            verify.backupId = target
            let result = try await harness.operatorClient.verifyBackup(verify)
            #expect(!result.ok)
            for word in verifyWords { #expect(result.detail.contains(word), "\(result.detail)") }
        }
        var restore = RestoreTenantRequest()
        restore.backupId = target
        restore.companyId = acme.id
        let error = await #expect(throws: RPCError.self) { try await harness.operatorClient.restoreTenant(restore) }
        #expect(error?.code == .failedPrecondition)
        for word in restoreWords { #expect(error?.message.contains(word) == true, "\(error?.message ?? "")") }
        if damage != .otherCompanysBackup { #expect(error?.message.contains("live data was not changed") == true) }

        #expect(try await Self.leadRows(harness, acme) == live)
        _ = try await acme.admin.upsertLeads { try await $0.write(Self.lead("acme-still-writable")) }
        await harness.stop()
    }

    @Test("RestoreTenant while calls are in flight: each call sees the old users or the new, never an error, never old after new")
    func restoreUnderCalls() async throws {
        let harness = try await ServiceHarness.start()
        let company = try await harness.makeCompany()
        var request = BackupTenantRequest()
        request.companyId = company.id
        let backup = try await harness.operatorClient.backupTenant(request)
        try await harness.addUser(company, id: "added-later", role: .salesManager, withKey: false)

        let stop = Flag()
        let admin = company.admin
        // Each caller counts its answers before and after the restore: the restore starts once
        // every caller has had an answer, and the callers stop once each has had one after it
        // (events, not sleeps: a loaded machine may not run a task for a while).
        let before = Counter()
        let after = Counter()
        let restored = Flag()
        let callers = (0..<4).map { _ in
            Task { () -> [Int] in
                var seen: [Int] = []
                var counted = (before: false, after: false)
                while !stop.isSet {
                    let wasRestored = restored.isSet
                    seen.append(try await admin.listUsers(ListUsersRequest()).users.count)
                    if !counted.before { counted.before = true; before.increment() }
                    if wasRestored, !counted.after { counted.after = true; after.increment() }
                }
                return seen
            }
        }
        try await waitUntil(.seconds(30)) { before.value == callers.count }
        var restore = RestoreTenantRequest()
        restore.backupId = backup.id
        restore.companyId = company.id
        _ = try await harness.operatorClient.restoreTenant(restore)
        restored.set()
        try await waitUntil(.seconds(30)) { after.value == callers.count }
        stop.set()
        for caller in callers {
            let seen = try await caller.value
            #expect(Set(seen).isSubset(of: [1, 2]), "\(Set(seen))")
            #expect(seen.first == 2)
            #expect(seen.last == 1)
            let firstNew = seen.firstIndex(of: 1) ?? seen.endIndex
            #expect(!seen[firstNew...].contains(2))
        }
        await harness.stop()
    }
}

private final class Flag: Sendable {
    private let atomic = Atomic<Bool>(false)
    var isSet: Bool { atomic.load(ordering: .sequentiallyConsistent) }
    func set() { atomic.store(true, ordering: .sequentiallyConsistent) }
}

private final class Counter: Sendable {
    private let atomic = Atomic<Int>(0)
    var value: Int { atomic.load(ordering: .sequentiallyConsistent) }
    func set(_ value: Int) { atomic.store(value, ordering: .sequentiallyConsistent) }
    func increment() { atomic.wrappingAdd(1, ordering: .sequentiallyConsistent) }
}
