import Foundation
import Logging
import MailSyncObjectStore
import MailSyncReplication
import MailSyncSecurity
import MailSyncService
import MailSyncStorage
import Testing
import TestSupport

/// `remoteBackup` end to end: a real `MailSyncServer` shipping to a real SeaweedFS, restores from
/// the bucket alone onto an empty directory.
@Suite("Backups off the machine: continuous shipping to S3", .timeLimit(.minutes(5)))
struct RemoteBackupTests {
    static let key = BackupKey.generate()

    static func environment(_ s3: SeaweedFSServer) -> [String: String] {
        ["MAILSYNC_S3_ACCESS_KEY_ID": s3.accessKeyID, "MAILSYNC_S3_SECRET_ACCESS_KEY": s3.secretAccessKey,
         BackupKey.environmentVariable: key.base64]
    }

    static func settings(_ s3: SeaweedFSServer, prefix: String) -> RemoteBackupSettings {
        var settings = RemoteBackupSettings()
        settings.s3 = .init(endpoint: s3.endpoint, region: "us-east-1", bucket: s3.bucket, prefix: prefix, addressing: "path", caFile: nil)
        settings.shipIntervalSeconds = 0.2
        return settings
    }

    /// A server shipping to `s3` under `prefix` every 0.2 s.
    static func shippingServer(_ s3: SeaweedFSServer, prefix: String) async throws -> ServiceHarness {
        try await ServiceHarness.start(environment: environment(s3), configure: { $0.remoteBackup = settings(s3, prefix: prefix) })
    }

    /// The bucket's objects under `prefix`, read directly (as a restore on a new machine does).
    static func bucket(_ s3: SeaweedFSServer, prefix: String) throws -> S3ObjectStore {
        try S3ObjectStore(configuration: S3Configuration(
            endpoint: s3.endpoint, bucket: s3.bucket, prefix: prefix + "/", accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey))
    }

    static func leads(_ range: Range<Int>, marker: String) -> [(id: String, address: String)] {
        range.map { (id: "lead\($0)", address: "\(marker)-\($0)@client.example") }
    }

    /// Waits until every database's shipping has caught up with what was committed before the call.
    static func waitShipped(_ shipping: BackupShipping) async throws {
        let start = await shipping.completedRounds
        try await waitUntil(.seconds(60)) {
            let rounds = await shipping.completedRounds
            let lag = await shipping.maxLag
            let states = await shipping.databaseStates
            // Two whole rounds after the call: the second began after every commit before it.
            return rounds >= start + 2 && lag == nil && !states.isEmpty && states.allSatisfy { $0.behindSince == nil }
        }
    }

    static func leadIDs(atPath path: String) throws -> [String] {
        let db = try SQLiteConnection(path: path, mode: .open)
        defer { db.close() }
        return try db.query("SELECT id FROM leads ORDER BY id").map { $0[0].string ?? "" }
    }

    @Test("committed writes reach the bucket within the bound; a restore from the bucket alone equals the live data; nothing readable leaks into the bucket")
    func shipAndRestore() async throws {
        try await SeaweedFSServer.withServer { s3 in
            let prefix = "ship-\(UUID().uuidString.prefix(8).lowercased())"
            let harness = try await Self.shippingServer(s3, prefix: prefix)
            let company = try await harness.makeCompany(name: "Shipped Co")
            let marker = "zq\(UUID().uuidString.prefix(6).lowercased())"
            try await SyncFixture.upsertLeads(company, Self.leads(0..<40, marker: marker))
            let shipping = try #require(harness.server.environment?.shipping)
            try await Self.waitShipped(shipping)

            let restored = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-restored-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: restored) }
            try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
            let store = try Self.bucket(s3, prefix: prefix)
            let tenant = try #require(TenantID(validating: company.id))
            let restore = try PointInTimeRestore(store: store, sealer: SealedObjects(key: Self.key), name: BackupShipping.tenantName(tenant))
            _ = try await restore.restore(to: restored + "/tenant.sqlite")
            let live = try await MailboxFixtures.tenantRead(harness, company) { db in
                try db.query("SELECT id FROM leads ORDER BY id").map { $0[0].string ?? "" }
            }
            #expect(live.count == 40)
            #expect(try Self.leadIDs(atPath: restored + "/tenant.sqlite") == live)

            let control = try PointInTimeRestore(store: store, sealer: SealedObjects(key: Self.key), name: BackupShipping.controlName)
            _ = try await control.restore(to: restored + "/control.sqlite")
            let db = try SQLiteConnection(path: restored + "/control.sqlite", mode: .open)
            #expect(try db.scalar("SELECT count(*) FROM companies WHERE id = '\(company.id)'")?.int64 == 1)
            db.close()

            // Sealed: no object in the bucket shows a lead's address, nor the company's name.
            let objects = try await store.list(prefix: "")
            #expect(objects.count >= 4)
            for object in objects {
                let bytes = try #require(try await store.get(object.key))
                #expect(bytes.range(of: Data(marker.utf8)) == nil, "\(object.key) shows a lead's address")
                #expect(bytes.range(of: Data("Shipped Co".utf8)) == nil, "\(object.key) shows the company's name")
            }
            await harness.stop()
        }
    }

    @Test("point in time: a restore at a moment between two imports has exactly the first; a wrong backup key is refused naming both fingerprints")
    func pointInTime() async throws {
        try await SeaweedFSServer.withServer { s3 in
            let prefix = "pitr-\(UUID().uuidString.prefix(8).lowercased())"
            let harness = try await Self.shippingServer(s3, prefix: prefix)
            let company = try await harness.makeCompany(name: "Timed Co")
            let shipping = try #require(harness.server.environment?.shipping)
            try await SyncFixture.upsertLeads(company, Self.leads(0..<10, marker: "first"))
            try await Self.waitShipped(shipping)
            let between = Date()
            try await Task.sleep(for: .milliseconds(1_200))
            try await SyncFixture.upsertLeads(company, Self.leads(10..<25, marker: "second"))
            try await Self.waitShipped(shipping)
            await harness.stop()

            let store = try Self.bucket(s3, prefix: prefix)
            let tenant = try #require(TenantID(validating: company.id))
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-pitr-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let restore = try PointInTimeRestore(store: store, sealer: SealedObjects(key: Self.key), name: BackupShipping.tenantName(tenant))
            _ = try await restore.restore(to: directory + "/then.sqlite", at: between)
            #expect(try Self.leadIDs(atPath: directory + "/then.sqlite") == (0..<10).map { "lead\($0)" }.sorted())
            _ = try await restore.restore(to: directory + "/now.sqlite")
            #expect(try Self.leadIDs(atPath: directory + "/now.sqlite") == (0..<25).map { "lead\($0)" }.sorted())

            let other = BackupKey.generate()
            let wrong = try PointInTimeRestore(store: store, sealer: SealedObjects(key: other), name: BackupShipping.tenantName(tenant))
            await #expect {
                _ = try await wrong.restore(to: directory + "/wrong.sqlite")
            } throws: { error in
                "\(error)".contains(Self.key.fingerprintHex) && "\(error)".contains(other.fingerprintHex)
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/wrong.sqlite"))
        }
    }

    @Test("a local restore while shipping: the company's shipping pauses, then a new generation from the restored file; the bucket then restores to the restored state")
    func localRestoreWhileShipping() async throws {
        try await SeaweedFSServer.withServer { s3 in
            let prefix = "local-\(UUID().uuidString.prefix(8).lowercased())"
            let harness = try await Self.shippingServer(s3, prefix: prefix)
            let company = try await harness.makeCompany(name: "Restored Co")
            let shipping = try #require(harness.server.environment?.shipping)
            try await SyncFixture.upsertLeads(company, Self.leads(0..<5, marker: "kept"))
            var backupRequest = BackupTenantRequest()
            backupRequest.companyId = company.id
            let backup = try await harness.operatorClient.backupTenant(backupRequest)
            try await SyncFixture.upsertLeads(company, Self.leads(5..<12, marker: "undone"))
            try await Self.waitShipped(shipping)
            let tenant = try #require(TenantID(validating: company.id))
            let before = await shipping.databaseStates.first { $0.name == BackupShipping.tenantName(tenant) }?.generation

            var restore = RestoreTenantRequest()
            restore.backupId = backup.id
            restore.companyId = company.id
            let restoring = ContinuousClock.now
            _ = try await harness.operatorClient.restoreTenant(restore)
            try await Self.waitShipped(shipping)
            // Shipped within seconds (a restored file left in rollback mode shipped only at its next open).
            #expect(ContinuousClock.now - restoring < .seconds(30))
            let after = await shipping.databaseStates.first { $0.name == BackupShipping.tenantName(tenant) }?.generation
            #expect(before != nil && after != nil && before != after, "a new generation from the restored file")
            await harness.stop()

            let store = try Self.bucket(s3, prefix: prefix)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-lr-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            _ = try await PointInTimeRestore(store: store, sealer: SealedObjects(key: Self.key), name: BackupShipping.tenantName(tenant))
                .restore(to: directory + "/tenant.sqlite")
            #expect(try Self.leadIDs(atPath: directory + "/tenant.sqlite") == (0..<5).map { "lead\($0)" }.sorted())
        }
    }

    @Test("mailsync remote restore --all from a directory target onto a new data directory: a server started on it serves the company and its leads; remote list names both databases")
    func restoreWholeServerWithTheCommand() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-remote-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var settings = RemoteBackupSettings()
        settings.directory = root + "/bucket"
        settings.shipIntervalSeconds = 0.2
        let keyEnvironment = [BackupKey.environmentVariable: Self.key.base64]
        let harness = try await ServiceHarness.start(environment: keyEnvironment, configure: { $0.remoteBackup = settings })
        let company = try await harness.makeCompany(name: "Moved Co")
        try await SyncFixture.upsertLeads(company, Self.leads(0..<7, marker: "moved"))
        let shipping = try #require(harness.server.environment?.shipping)
        try await Self.waitShipped(shipping)
        let secretKey = try Data(contentsOf: URL(fileURLWithPath: harness.dataDirectory + "/secret.key"))
        await harness.stop()

        var config = ServerSettings()
        config.remoteBackup = settings
        let configPath = root + "/serve.json"
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: configPath))
        let listed = try await CommandRunner.run(["remote", "list", "--config", configPath], environment: keyEnvironment)
        #expect(listed.status == 0, "\(listed.errors)")
        #expect(listed.output.contains("control") && listed.output.contains("tenants/\(company.id)"), "\(listed.output)")
        #expect(listed.output.contains(Self.key.fingerprintHex))

        let newData = root + "/new-machine"
        let restored = try await CommandRunner.run(["remote", "restore", "--config", configPath, "--all", "--to", newData], environment: keyEnvironment)
        #expect(restored.status == 0, "\(restored.errors)")
        let again = try await CommandRunner.run(["remote", "restore", "--config", configPath, "--all", "--to", newData], environment: keyEnvironment)
        #expect(again.status != 0 && again.errors.contains("exists"), "an existing destination is refused: \(again.errors)")
        let wrongKey = try await CommandRunner.run(
            ["remote", "restore", "--config", configPath, "--all", "--to", root + "/wrong"],
            environment: [BackupKey.environmentVariable: BackupKey.generate().base64])
        #expect(wrongKey.status != 0 && wrongKey.errors.contains(Self.key.fingerprintHex), "\(wrongKey.errors)")
        #expect(!FileManager.default.fileExists(atPath: root + "/wrong"))
        // A company's objects copied under another company's name are refused (sealed to their names).
        let other = UUID().uuidString.lowercased()
        try FileManager.default.copyItem(atPath: root + "/bucket/tenants/\(company.id)", toPath: root + "/bucket/tenants/\(other)")
        let moved = try await CommandRunner.run(
            ["remote", "restore", "--config", configPath, "--company", other, "--to", root + "/moved"], environment: keyEnvironment)
        #expect(moved.status != 0 && moved.errors.contains("tenants/\(other)"), "\(moved.errors)")
        #expect(!FileManager.default.fileExists(atPath: root + "/moved"))
        try FileManager.default.removeItem(atPath: root + "/bucket/tenants/\(other)")
        // Bad input: each refused with what to fix, nothing written.
        for (arguments, words) in [
            (["--all", "--company", company.id], "exactly one of --all and --company"),
            (["--all", "--at", "yesterday"], "not an ISO 8601 time"),
            (["--company", "not-a-company"], "is not a company id"),
        ] {
            let refused = try await CommandRunner.run(
                ["remote", "restore", "--config", configPath, "--to", root + "/bad"] + arguments, environment: keyEnvironment)
            #expect(refused.status != 0 && refused.errors.contains(words), "\(arguments): \(refused.errors)")
            #expect(!FileManager.default.fileExists(atPath: root + "/bad"))
        }
        let noSection = root + "/plain.json"
        try Data("{}".utf8).write(to: URL(fileURLWithPath: noSection))
        let unset = try await CommandRunner.run(["remote", "list", "--config", noSection], environment: keyEnvironment)
        #expect(unset.status != 0 && unset.errors.contains("no \"remoteBackup\" section"), "\(unset.errors)")
        let prune = try await CommandRunner.run(["remote", "prune", "--config", configPath, "--dry-run"], environment: keyEnvironment)
        #expect(prune.status == 0 && prune.output.contains("Would delete 0 object(s) outside 7 days"), "one generation each, all new: \(prune.output)\(prune.errors)")

        // The secret key travels apart from the bucket; with it the restored server is whole.
        FileManager.default.createFile(atPath: newData + "/secret.key", contents: secretKey, attributes: [.posixPermissions: 0o600])
        let restoredServer = try await ServiceHarness.start(dataDirectory: newData)
        let companies = try await restoredServer.operatorClient.listCompanies(ListCompaniesRequest())
        #expect(companies.companies.map(\.id) == [company.id])
        let movedCompany = ServiceHarness.Company(
            id: company.id, adminUserID: company.adminUserID, adminKey: company.adminKey, admin: restoredServer.client(key: company.adminKey))
        #expect(try await MailboxFixtures.tenantRead(restoredServer, movedCompany) { try $0.scalar("SELECT count(*) FROM leads")?.int64 } == 7)
        await restoredServer.stop()
    }

    @Test("a store that accepts and never answers: stopping the shipping returns within its limit instead of waiting out the request")
    func hangingStore() async throws {
        try await TarpitServer.with { tarpit in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-hang-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: root) }
            let db = try SQLiteConnection(path: root + "/control.sqlite", mode: .create)
            try db.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
            db.close()
            var settings = RemoteBackupSettings()
            settings.s3 = .init(endpoint: "http://127.0.0.1:\(tarpit.port)", bucket: "hanging-bucket")
            settings.shipIntervalSeconds = 0.2
            let target = try settings.resolve(environment: [
                "MAILSYNC_S3_ACCESS_KEY_ID": "k", "MAILSYNC_S3_SECRET_ACCESS_KEY": "s", BackupKey.environmentVariable: Self.key.base64,
            ])
            let shipping = BackupShipping(target: target, dataDirectory: DataDirectory(root), metrics: ServiceMetrics(), logger: Logger(label: "test"))
            await shipping.start()
            #expect(await tarpit.wait { $0.accepted >= 1 }, "a ship is waiting on the store")
            let stopping = ContinuousClock.now
            await shipping.stop(finalShipLimit: .seconds(1))
            // Bounded by the limit (1 s), not by the request's 5-minute timeout.
            #expect(ContinuousClock.now - stopping < .seconds(20))
        }
    }

    @Test("a target that refuses every write: calls go on, the failures are counted, and readiness says degraded with the lag")
    func unreachableTarget() async throws {
        var settings = RemoteBackupSettings()
        settings.directory = "/proc/mailsync-no-such-dir/backups"
        settings.shipIntervalSeconds = 0.2
        settings.maxLagSeconds = 1
        let harness = try await ServiceHarness.start(environment: [BackupKey.environmentVariable: Self.key.base64], configure: {
            $0.remoteBackup = settings
            $0.metricsListen = "127.0.0.1:0"
        })
        let company = try await harness.makeCompany(name: "Stranded Co")
        try await SyncFixture.upsertLeads(company, Self.leads(0..<3, marker: "stranded"))
        let shipping = try #require(harness.server.environment?.shipping)
        let tenantName = "tenants/\(company.id)"
        try await waitUntil(.seconds(30)) {
            let tenantKnown = await shipping.databaseStates.contains { $0.name == tenantName && $0.behindSince != nil }
            let lag = await shipping.maxLag ?? .zero
            return tenantKnown && lag > .seconds(1)
        }
        // The per-database gauges are set at the end of a round: wait for a whole round after
        // the company's database was first seen (the wait above may end in the middle of one).
        let seenAt = await shipping.completedRounds
        try await waitUntil(.seconds(30)) { await shipping.completedRounds >= seenAt + 2 }
        let verdict = await harness.server.observability.readiness.check()
        #expect(verdict.ready)
        #expect(verdict.reason.hasPrefix("ready, degraded: backup shipping is"), "\(verdict.reason)")
        let states = await shipping.databaseStates
        #expect(states.contains { $0.lastError?.contains("backup directory") == true }, "\(states)")
        let port = try #require(harness.server.observability.endpointAddress?.port)
        let scraped = try await HTTPProbe.get("/metrics", port: port).body
        let lagLine = try #require(scraped.split(separator: "\n").first { $0.hasPrefix("mailsync_backup_database_lag_seconds{database=\"tenants/\(company.id)\"}") })
        #expect((Double(lagLine.split(separator: " ").last ?? "") ?? 0) > 0, "behind, not caught up: \(lagLine)")
        #expect(scraped.contains("mailsync_backup_ship_failures_total"))
        #expect(scraped.split(separator: "\n").contains { $0.hasPrefix("mailsync_backup_ship_lag_seconds ") })
        // Calls go on while nothing ships.
        try await SyncFixture.upsertLeads(company, Self.leads(3..<5, marker: "stranded"))
        #expect(try await MailboxFixtures.tenantRead(harness, company) { try $0.scalar("SELECT count(*) FROM leads")?.int64 } == 5)
        await harness.stop()
    }
}
