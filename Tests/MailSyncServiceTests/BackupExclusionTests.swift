import Foundation
import MailSyncClient
import MailSyncRPC
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One backup or restore per company at a time, through the RPCs: a second one of the same company
/// is refused with `aborted` and "try again"; another company's backup runs meanwhile.
///
/// The first operation is held mid-way without sleeping or timing: a named pipe in the company's
/// backup folder, named like a manifest (``ManifestHold``). A backup reads its company's manifests
/// before it copies anything, and a restore reads them for its safety backup of the replaced
/// state, both inside their company's one-at-a-time section; the read blocks until the test
/// releases the pipe, and the test knows the operation is there because the pipe's write end only
/// opens once a reader has it open.
@Suite("Backups: one backup or restore per company at a time", .timeLimit(.minutes(3)))
struct BackupExclusionTests {
    /// A FIFO at `<data>/backups/<company>/20200101T000000000000Z.json`.
    final class ManifestHold: Sendable {
        let path: String
        private let writer = Mutex<Int32>(-1)

        init(_ harness: ServiceHarness, _ company: ServiceHarness.Company) throws {
            let folder = harness.dataDirectory + "/backups/" + company.id
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            path = folder + "/20200101T000000000000Z.json"
            guard mkfifo(path, 0o600) == 0 else { throw HoldError("mkfifo \(path): errno \(errno)") }
        }

        /// Returns once the operation has the pipe open for reading (it is then inside its
        /// company's exclusive section, blocked on the read). Opening the write end without
        /// blocking fails with ENXIO until a reader is there. Throws after `limit`.
        func waitForReader(_ limit: Duration = .seconds(30)) async throws {
            let deadline = ContinuousClock.now + limit
            while true {
                let fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
                if fd >= 0 {
                    writer.withLock { $0 = fd }
                    return
                }
                guard errno == ENXIO else { throw HoldError("open \(path) for writing: errno \(errno)") }
                guard ContinuousClock.now < deadline else {
                    throw HoldError("nothing read \(path) within \(limit): the operation never listed its company's manifests, so this test's hold did not take")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }

        /// Removes the pipe, then closes its write end: the blocked read sees an empty file (not
        /// a manifest: skipped) and the operation goes on. Idempotent.
        func release() {
            unlink(path)
            writer.withLock { fd in
                if fd >= 0 { close(fd) }
                fd = -1
            }
        }
    }

    final class Finished: Sendable {
        let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .sequentiallyConsistent) }
    }

    struct HoldError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func backupRequest(_ company: ServiceHarness.Company, force: Bool = true) -> BackupTenantRequest {
        var request = BackupTenantRequest()
        request.companyId = company.id
        request.force = force
        return request
    }

    static func restoreRequest(_ company: ServiceHarness.Company, _ backup: Backup) -> RestoreTenantRequest {
        var request = RestoreTenantRequest()
        request.companyId = company.id
        request.backupId = backup.id
        return request
    }

    /// Two companies with a lead each, and a first backup of `a` (something to restore).
    static func companies(_ harness: ServiceHarness) async throws -> (a: ServiceHarness.Company, b: ServiceHarness.Company, backupOfA: Backup) {
        let a = try await harness.makeCompany(name: "Alpha")
        let b = try await harness.makeCompany(name: "Beta")
        try await SyncFixture.upsertLeads(a, [(id: "lead-a", address: "a@client.example")])
        try await SyncFixture.upsertLeads(b, [(id: "lead-b", address: "b@client.example")])
        let backup = try await harness.operatorClient.backupTenant(backupRequest(a))
        return (a, b, backup)
    }

    /// What a second operation of a company whose backup or restore runs must get: `aborted`,
    /// naming the company, saying one is running and to try again.
    static func expectBusy(_ company: ServiceHarness.Company, _ call: () async throws -> Void) async {
        await #expect {
            try await call()
        } throws: { error in
            guard let error = error as? RPCError else { return false }
            #expect(error.code == .aborted, "\(error)")
            #expect(error.message.contains("company \(company.id)"), "\(error.message)")
            #expect(error.message.contains("already running"), "\(error.message)")
            #expect(error.message.contains("try again"), "\(error.message)")
            return error.code == .aborted
        }
    }

    /// Runs `first` (a backup or restore of `a`, held by a ``ManifestHold``), then, while it is
    /// held: a second backup and a restore of `a` are refused, and a backup of `b` completes.
    /// Then the hold is released and `first` must succeed.
    static func whileHeld<T: Sendable>(
        _ harness: ServiceHarness, a: ServiceHarness.Company, b: ServiceHarness.Company, backupOfA: Backup,
        first: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let hold = try ManifestHold(harness, a)
        let finished = Finished()
        let running = Task {
            defer { finished.flag.store(true, ordering: .sequentiallyConsistent) }
            return try await first()
        }
        do {
            try await hold.waitForReader()
            let client = harness.operatorClient
            // A refusal is immediate; a call let through would block on the hold too, and fail
            // with `deadline exceeded` instead of hanging the test.
            let options = CallOptions(timeout: .seconds(10))
            await expectBusy(a) { _ = try await client.backupTenant(backupRequest(a), options: options) }
            await expectBusy(a) { _ = try await client.backupTenant(backupRequest(a, force: false), options: options) }
            await expectBusy(a) { _ = try await client.restoreTenant(restoreRequest(a, backupOfA), options: options) }

            // Another company's backup is not held up by it: it completes while `a`'s is held.
            let other = try await client.backupTenant(backupRequest(b))
            #expect(other.id.hasPrefix(b.id + "/"))
            #expect(!other.reused)
            #expect(!finished.isSet, "the first operation ended before the hold was released")
        } catch {
            hold.release()
            _ = try? await running.value
            throw error
        }
        hold.release()
        let result = try await running.value

        // The slot is free again: "try again" works.
        let again = try await harness.operatorClient.backupTenant(backupRequest(a))
        #expect(again.id.hasPrefix(a.id + "/"))
        return result
    }

    @Test("while a company's backup runs, another BackupTenant or a RestoreTenant of it is refused (aborted, try again); another company's backup completes meanwhile")
    func secondCallDuringBackup() async throws {
        let harness = try await ServiceHarness.start()
        do {
            let (a, b, backupOfA) = try await Self.companies(harness)
            let client = harness.operatorClient
            let held = try await Self.whileHeld(harness, a: a, b: b, backupOfA: backupOfA) {
                try await client.backupTenant(Self.backupRequest(a))
            }
            #expect(held.id.hasPrefix(a.id + "/"))
            #expect(!held.reused)
            #expect(held.id != backupOfA.id)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }

    @Test("while a company's restore runs, a BackupTenant or another RestoreTenant of it is refused (aborted, try again); another company's backup completes meanwhile")
    func secondCallDuringRestore() async throws {
        let harness = try await ServiceHarness.start()
        do {
            let (a, b, backupOfA) = try await Self.companies(harness)
            let client = harness.operatorClient
            let held = try await Self.whileHeld(harness, a: a, b: b, backupOfA: backupOfA) {
                try await client.restoreTenant(Self.restoreRequest(a, backupOfA))
            }
            #expect(held.restored.id == backupOfA.id)
        } catch {
            Issue.record(error)
        }
        await harness.stop()
    }
}
