import Foundation
import MailSyncClient
import MailSyncCluster
import MailSyncRPC
import MailSyncSecurity
import MailSyncStorage
import MailSyncTransport
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Real `mailsync serve` processes as nodes of one fleet on a real three-member etcd (issue #15):
/// control data replicated, calls answered by the owner only, and a node paused past its lease
/// committing nothing.
@Suite("Fleet: mailsync serve nodes on etcd", .serialized, .timeLimit(.minutes(5)))
struct FleetTests {
    /// One fleet node: a data directory and a `mailsync serve --config` child.
    struct Node {
        let id: String
        let dataDirectory: String
        let process: SyncCrashTests.ServeProcess
        var address: String { "127.0.0.1:\(process.port)" }

        /// A client that does not follow redirects (so a test sees them).
        func plainClient(apiKey: String) -> MailSync.Client {
            let transport = TCPClientTransport(host: "127.0.0.1", port: process.port)
            var options = CallOptions()
            options.metadata.add(Metadata.authorizationKey, apiKey)
            return MailSync.Client(RPCClient(transport: transport, defaultOptions: options))
        }
    }

    static let secretKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

    static let backupKey = BackupKey.generate()

    static func start(
        _ ids: [String], etcd: EtcdCluster, root: String, leaseSeconds: Int = 10, margin: Int = 2, bucket: SeaweedFSServer? = nil,
        placement: String = "leastLoaded"
    ) async throws -> [Node] {
        var nodes: [Node] = []
        for id in ids {
            let dataDirectory = root + "/" + id
            var remote = ""
            var environment = ["MAILSYNC_SECRET_KEY": secretKey]
            if let bucket {
                remote = #", "remoteBackup": {"s3": {"endpoint": "\#(bucket.endpoint)", "bucket": "\#(bucket.bucket)", "prefix": "fleet", "addressing": "path"}, "shipIntervalSeconds": 0.2}"#
                environment["MAILSYNC_S3_ACCESS_KEY_ID"] = bucket.accessKeyID
                environment["MAILSYNC_S3_SECRET_ACCESS_KEY"] = bucket.secretAccessKey
                environment[BackupKey.environmentVariable] = backupKey.base64
            }
            let settings = """
                {"cluster": {"etcd": [\(etcd.endpoints.map { "\"\($0)\"" }.joined(separator: ", "))], "node": "\(id)",
                 "leaseSeconds": \(leaseSeconds), "fenceMarginSeconds": \(margin), "placeNewCompanies": "\(placement)"}, "outboundAllow": ["127.0.0.1"]\(remote)}
                """
            let process = try SyncCrashTests.ServeProcess(dataDirectory: dataDirectory, settings: settings, environment: environment)
            nodes.append(Node(id: id, dataDirectory: dataDirectory, process: process))
        }
        for node in nodes { try await node.process.waitUntilServing() }
        return nodes
    }

    static func operatorKey(_ dataDirectory: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let (_, output, _) = try await CommandRunner.run(
            ["keys", "create-operator", "--data-dir", dataDirectory, "--json"], environment: ["MAILSYNC_SECRET_KEY": secretKey])
        return try #require((try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: String])?["secret"])
    }

    static func company(named name: String, through client: MailSync.Client) async throws -> (id: String, adminKey: String) {
        let company = try await client.createCompany(SyncCrashTests.ServeProcess.companyRequest(name))
        var key = CreateApiKeyRequest()
        key.companyId = company.id
        key.userId = "alice"
        return (company.id, try await client.createApiKey(key).secret)
    }

    static func user(_ id: String) -> CreateUserRequest {
        var request = CreateUserRequest()
        request.id = id
        request.name = "User \(id)"
        request.email = "\(id)@acme.example"
        request.role = .salesperson
        return request
    }

    static func userCount(_ node: Node, company: String) throws -> Int64 {
        let path = DataDirectory(node.dataDirectory).tenantDatabasePath(try #require(TenantID(validating: company)))
        let db = try SQLiteConnection(path: path, mode: .open)
        defer { db.close() }
        return try db.scalar("SELECT count(*) FROM users")?.int64 ?? -1
    }

    /// Runs `body` with a started fleet: `ids` as `mailsync serve` nodes on a fresh three-member
    /// etcd (and SeaweedFS as the bucket with `bucket`), an operator key made on the first node's
    /// directory before it joined; everything stopped and removed afterwards.
    static func withFleet(
        _ ids: [String], leaseSeconds: Int = 10, margin: Int = 2, bucket: Bool = false, placement: String = "leastLoaded",
        _ body: (_ nodes: [Node], _ etcd: EtcdCluster, _ operatorKey: String) async throws -> Void
    ) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandRunner.binary.path), "build the package first (swift build)")
        func run(_ store: SeaweedFSServer?) async throws {
            try await EtcdCluster.with { etcd in
                let root = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-fleet-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: root) }
                let operatorKey = try await Self.operatorKey(root + "/" + ids[0])
                let nodes = try await Self.start(ids, etcd: etcd, root: root, leaseSeconds: leaseSeconds, margin: margin, bucket: store, placement: placement)
                defer {
                    for node in nodes {
                        kill(node.process.process.processIdentifier, SIGCONT)  // a test may have frozen it
                        node.process.stop()
                    }
                }
                try await body(nodes, etcd, operatorKey)
            }
        }
        if bucket {
            try await SeaweedFSServer.withServer { try await run($0) }
        } else {
            try await run(nil)
        }
    }

    @Test("keys and companies made on one node work on every node; other nodes answer 'moved' naming the owner")
    func routing() async throws {
        // The operator key exists only in node-a's control database before the fleet starts:
        // node-a publishes it when it joins (the migration of a single-node directory).
        try await Self.withFleet(["node-a", "node-b", "node-c"]) { nodes, etcd, operatorKey in
            let (a, b, c) = (nodes[0], nodes[1], nodes[2])

            // The key made on node-a authenticates on node-b (its mirror catches up on the miss).
            let company = try await Self.company(named: "Fleet Co", through: b.plainClient(apiKey: operatorKey))
            #expect(FileManager.default.fileExists(atPath: DataDirectory(b.dataDirectory).tenantDatabasePath(TenantID(validating: company.id)!)))

            // The owner serves its company; the tenant key made on node-b works there.
            _ = try await b.plainClient(apiKey: company.adminKey).createUser(Self.user("bob"))
            #expect(try Self.userCount(b, company: company.id) == 2)

            // Elsewhere: 'moved' with node-b's address and the company, and nothing done.
            for other in [a, c] {
                let error = await #expect(throws: RPCError.self) {
                    _ = try await other.plainClient(apiKey: company.adminKey).createUser(Self.user("carol-\(other.id)"))
                }
                #expect(error?.code == .moved)
                #expect(error?.trailers[Metadata.ownerAddressKey] == b.address)
                #expect(error?.trailers[Metadata.ownerCompanyKey] == company.id)
                #expect(!FileManager.default.fileExists(atPath: DataDirectory(other.dataDirectory).tenantDatabasePath(TenantID(validating: company.id)!)))
            }
            #expect(try Self.userCount(b, company: company.id) == 2, "the redirected calls changed nothing")

            // The generated client follows the redirect by itself: through node-c, served by node-b.
            let (following, transport) = MailSync.connect(host: "127.0.0.1", port: c.process.port, apiKey: company.adminKey)
            defer { transport.close() }
            _ = try await following.createUser(Self.user("dave"))
            _ = try await following.createUser(Self.user("erin"))
            #expect(try Self.userIDs(b, company: company.id).isSuperset(of: ["dave", "erin"]))

            // Operator-wide reads on any node see the company (from the replicated control data).
            try await waitUntil(.seconds(10)) {
                try await c.plainClient(apiKey: operatorKey).listCompanies(ListCompaniesRequest()).companies.contains { $0.id == company.id }
            }

            // The placement in etcd names node-b, epoch 1.
            let store = PlacementStore(etcd: EtcdClient(endpoints: try etcd.endpoints.map(EtcdEndpoint.init(parsing:))))
            let placement = try #require(try await store.owner(of: company.id))
            #expect(placement.record == PlacementRecord(node: NodeID("node-b")!, epoch: 1))
        }
    }

    @Test("a node paused past its lease commits nothing for a company moved meanwhile, then redirects to the new owner")
    func pausedPastLease() async throws {
        try await Self.withFleet(["node-a", "node-b"], leaseSeconds: 4, margin: 1) { nodes, etcd, operatorKey in
            let (a, b) = (nodes[0], nodes[1])
            let company = try await Self.company(named: "Paused Co", through: a.plainClient(apiKey: operatorKey))
            _ = try await a.plainClient(apiKey: company.adminKey).createUser(Self.user("bob"))
            #expect(try Self.userCount(a, company: company.id) == 2)

            let client = try EtcdClient(endpoints: etcd.endpoints.map(EtcdEndpoint.init(parsing:)))
            let store = PlacementStore(etcd: client)
            let before = try #require(try await store.owner(of: company.id))
            #expect(before.record.node.rawValue == "node-a")

            // node-a stops (SIGSTOP); a write for its company is sent to it while it is stopped.
            kill(a.process.process.processIdentifier, SIGSTOP)
            let stale = a.plainClient(apiKey: company.adminKey)
            let pending = Task { try await stale.createUser(Self.user("mallory")) }

            // Its lease ends; the company is given to node-b (as a takeover would).
            try await waitUntil(.seconds(30)) {
                try await !NodeMembership.liveNodes(etcd: client).contains { $0.node.rawValue == "node-a" }
            }
            #expect(try await store.move(company.id, from: before, to: NodeID("node-b")!) != nil)

            // node-a runs again: the write it now reads must not commit.
            kill(a.process.process.processIdentifier, SIGCONT)
            let outcome = await pending.result
            guard case .failure(let failure) = outcome, let error = failure as? RPCError else {
                Issue.record("the stale node answered \(outcome)")
                return
            }
            #expect([.unavailable, .moved].contains(error.code), "\(error)")
            #expect(try Self.userCount(a, company: company.id) == 2, "the stale node committed nothing")

            // Once it has joined again, it sends callers to node-b.
            try await waitUntil(.seconds(20)) {
                do {
                    _ = try await a.plainClient(apiKey: company.adminKey).createUser(Self.user("trent"))
                    Issue.record("node-a served a company it no longer owns")
                    return true
                } catch let error as RPCError where error.code == .moved {
                    #expect(error.trailers[Metadata.ownerAddressKey] == b.address)
                    return true
                } catch let error as RPCError where error.code == .unavailable {
                    return false
                }
            }
            #expect(try Self.userCount(a, company: company.id) == 2)
        }
    }

    /// Calls the company's owner, following `moved` by hand and waiting out `unavailable` (a
    /// takeover or a move in progress), as a client of the fleet does. Returns the node that served.
    static func callOwner(
        _ nodes: [Node], startingAt first: Node, apiKey: String, within limit: Duration = .seconds(60),
        _ call: @Sendable (MailSync.Client) async throws -> Void
    ) async throws -> Node {
        var node = first
        let deadline = ContinuousClock.now + limit
        while true {
            do {
                try await call(node.plainClient(apiKey: apiKey))
                return node
            } catch let error as RPCError where error.code == .moved {
                let address = try #require(error.trailers[Metadata.ownerAddressKey])
                node = try #require(nodes.first { $0.address == address }, "moved to \(address), no node of the test")
            } catch let error as RPCError where error.code == .unavailable {
                // The owner is gone or busy: back to the first node, which knows the newest.
                guard ContinuousClock.now < deadline else { throw error }
                node = first
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    static func userIDs(_ node: Node, company: String) throws -> Set<String> {
        let path = DataDirectory(node.dataDirectory).tenantDatabasePath(try #require(TenantID(validating: company)))
        let db = try SQLiteConnection(path: path, mode: .open)
        defer { db.close() }
        return Set(try db.query("SELECT id FROM users").compactMap { $0["id"]?.string })
    }

    @Test("SIGKILL of the owner: a survivor takes the company over, restored from the bucket, with every write shipped before the kill")
    func failover() async throws {
        try await Self.withFleet(["node-a", "node-b", "node-c"], leaseSeconds: 4, margin: 1, bucket: true) { nodes, etcd, operatorKey in
            let a = nodes[0]
            let company = try await Self.company(named: "Failover Co", through: a.plainClient(apiKey: operatorKey))
            var written: Set<String> = ["alice"]
            for i in 0..<20 {
                _ = try await a.plainClient(apiKey: company.adminKey).createUser(Self.user("u\(i)"))
                written.insert("u\(i)")
            }
            // Shipped every 0.2 s: a second covers it (writes inside the last ship's window
            // are the stated loss of a failover, docs/cluster.md).
            try await Task.sleep(for: .seconds(1.5))
            a.process.kill()
            let killed = ContinuousClock.now

            let survivors = Array(nodes.dropFirst())
            let served = try await Self.callOwner(nodes, startingAt: survivors[0], apiKey: company.adminKey) { client in
                _ = try await client.createUser(Self.user("after"))
            }
            let failoverTime = ContinuousClock.now - killed
            print("fleet failover: served again by \(served.id) \(failoverTime) after the SIGKILL (lease 4 s)")
            #expect(failoverTime < .seconds(30))
            let users = try Self.userIDs(served, company: company.id)
            #expect(written.isSubset(of: users), "lost: \(written.subtracting(users).sorted())")
            #expect(users.contains("after"))
            let placement = try #require(try await PlacementStore(etcd: EtcdClient(endpoints: etcd.endpoints.map(EtcdEndpoint.init(parsing:))))
                .owner(of: company.id))
            #expect(placement.record.node.rawValue == served.id && placement.record.epoch == 2)
        }
    }

    @Test("a planned move under a writer loses no acknowledged write, and the old node redirects afterwards")
    func plannedMove() async throws {
        try await Self.withFleet(["node-a", "node-b"], bucket: true) { nodes, etcd, operatorKey in
            let (a, b) = (nodes[0], nodes[1])
            let company = try await Self.company(named: "Moving Co", through: a.plainClient(apiKey: operatorKey))

            // A writer: one user per call, through whichever node owns the company.
            let acknowledged = Mutex<[(String, ContinuousClock.Instant)]>([])
            let writer = Task {
                var node = a
                for i in 0..<100_000 where !Task.isCancelled {
                    let id = "w\(i)"
                    node = try await Self.callOwner(nodes, startingAt: node, apiKey: company.adminKey) { client in
                        _ = try await client.createUser(Self.user(id))
                    }
                    acknowledged.withLock { $0.append((id, .now)) }
                }
            }
            try await waitUntil(.seconds(20)) { acknowledged.withLock { $0.count } >= 20 }
            let (status, output, errors) = try await CommandRunner.run(
                ["cluster", "move", company.id, "--to", "node-b", "--etcd", etcd.endpoints.joined(separator: ",")])
            #expect(status == 0, "mailsync cluster move: \(output) \(errors)")
            if status != 0 { print("fleet move failed: \(output) \(errors)") }
            let movedAt = acknowledged.withLock { $0.count }
            try await waitUntil(.seconds(30)) { acknowledged.withLock { $0.count } >= movedAt + 20 }
            writer.cancel()
            _ = await writer.result
            let done = acknowledged.withLock { $0 }
            let gaps = zip(done.dropFirst(), done).map { $0.0.1 - $0.1.1 }
            print("fleet move: \(output.trimmingCharacters(in: .whitespacesAndNewlines)); longest gap between acknowledged writes \(gaps.max() ?? .zero)")

            let users = try Self.userIDs(b, company: company.id)
            let lost = Set(done.map(\.0)).subtracting(users)
            #expect(lost.isEmpty, "acknowledged but lost: \(lost.sorted())")
            let error = await #expect(throws: RPCError.self) { _ = try await a.plainClient(apiKey: company.adminKey).createUser(Self.user("late")) }
            #expect(error?.code == .moved && error?.trailers[Metadata.ownerAddressKey] == b.address)
        }
    }

    @Test("one etcd member killed changes nothing; etcd's quorum lost stops writes, and they resume when it is back")
    func etcdFailures() async throws {
        // The default lease (10 s): a 4 s lease can close the fence during the election that may
        // follow the first kill on a loaded machine, which is safe but not "nothing changes".
        try await Self.withFleet(["node-a"]) { nodes, etcd, operatorKey in
            let a = nodes[0]
            let company = try await Self.company(named: "Quorum Co", through: a.plainClient(apiKey: operatorKey))
            let client = a.plainClient(apiKey: company.adminKey)
            _ = try await client.createUser(Self.user("before"))

            // One member of three gone: renewals and reads go to the others.
            await etcd.stopMember(2)
            for i in 0..<10 {
                _ = try await client.createUser(Self.user("one-down-\(i)"))
                try await Task.sleep(for: .milliseconds(500))
            }

            // Quorum lost (a second member frozen): the node's fence closes within the lease, and
            // writes are refused with what to do.
            await etcd.pauseMember(1)
            let lostAt = ContinuousClock.now
            var refused: RPCError?
            var lastAcknowledged = lostAt
            while refused == nil, ContinuousClock.now - lostAt < .seconds(40) {
                do {
                    _ = try await client.createUser(Self.user("q\(UUID().uuidString.prefix(6).lowercased())"))
                    lastAcknowledged = .now
                    try await Task.sleep(for: .milliseconds(100))
                } catch let error as RPCError {
                    refused = error
                }
            }
            let error = try #require(refused, "writes went on without etcd's quorum")
            #expect(error.code == .unavailable, "\(error)")
            // The guarantee: nothing acknowledged once the lease may have lapsed (10 s after the last
            // renewal, which was before the quorum went).
            #expect(lastAcknowledged - lostAt < .seconds(10), "a write was acknowledged \(lastAcknowledged - lostAt) after the quorum was lost")
            let count = try Self.userCount(a, company: company.id)
            try await Task.sleep(for: .seconds(1))
            #expect(try Self.userCount(a, company: company.id) == count, "nothing committed without quorum")

            // Quorum back: the node renews (or joins again) and serves its company again.
            await etcd.resumeMember(1)
            try await waitUntil(.seconds(30)) {
                do {
                    _ = try await client.createUser(Self.user("after-\(UUID().uuidString.prefix(6).lowercased())"))
                    return true
                } catch let error as RPCError where error.code == .unavailable {
                    return false
                }
            }
        }
    }

    @Test("SIGKILL of the owner mid-sync: a survivor restores the company from the bucket and resyncs; every message recorded exactly once")
    func failoverMidSync() async throws {
        try await DovecotServer.withServer(users: [(name: "alice", password: "s3cret")]) { dovecot in
            let total = 2000
            let now = Date()
            for i in 0..<total {
                let from = i % 2 == 0 ? "jane@client.example" : "other\(i)@nowhere.example"
                try await dovecot.append(
                    user: "alice",
                    message: "From: \(from)\r\nTo: alice@acme.example\r\nSubject: Mail \(i)\r\nMessage-ID: <fleet\(i)@c>\r\n\r\n"
                        + String(repeating: "body line \(i)\r\n", count: 20),
                    date: now.addingTimeInterval(-3600))
            }
            let expected = Int64(total / 2)
            try await Self.withFleet(["node-a", "node-b"], leaseSeconds: 4, margin: 1, bucket: true) { nodes, etcd, operatorKey in
                let (a, b) = (nodes[0], nodes[1])
                let company = try await Self.company(named: "Sync Failover Co", through: a.plainClient(apiKey: operatorKey))
                let admin = ServiceHarness.Company(id: company.id, adminUserID: "alice", adminKey: company.adminKey, admin: a.plainClient(apiKey: company.adminKey))
                try await SyncFixture.upsertLeads(admin, [(id: "jane", address: "jane@client.example")])
                let pathA = DataDirectory(a.dataDirectory).tenantDatabasePath(try #require(TenantID(validating: company.id)))
                let pathB = DataDirectory(b.dataDirectory).tenantDatabasePath(try #require(TenantID(validating: company.id)))

                // Killed once some batches are committed (and some shipped), before the end.
                SyncCrashTests.kill(a.process, assoonAs: {
                    FileManager.default.fileExists(atPath: pathA) && ((try? SyncCrashTests.counts(pathA).recorded) ?? 0) > 100
                })
                _ = try await admin.admin.createMailboxConnection(
                    SyncFixture.connectRequest(email: "alice@acme.example", username: "alice", port: dovecot.port, secret: "s3cret"))
                try await waitUntil(.seconds(120)) { !a.process.process.isRunning }
                let atKill = try SyncCrashTests.counts(pathA)
                #expect(atKill.recorded < expected, "killed at \(atKill.recorded) of \(expected): mid-sync")

                // node-b takes the company over, restores it and syncs the rest: each once.
                var final = (recorded: Int64(0), entries: Int64(0), distinctKeys: Int64(0))
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    if FileManager.default.fileExists(atPath: pathB), let counts = try? SyncCrashTests.counts(pathB) {
                        final = counts
                        if final.recorded >= expected { break }
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(final.recorded == expected)
                #expect(final.entries == expected)
                #expect(final.distinctKeys == expected)
            }
        }
    }

    @Test("mailsync cluster rebalance evens out the companies of two nodes; status shows each node's shipping lag")
    func rebalance() async throws {
        try await Self.withFleet(["node-a", "node-b"], bucket: true, placement: "creatingNode") { nodes, etcd, operatorKey in
            var companies: [(id: String, adminKey: String)] = []
            for i in 0..<4 { companies.append(try await Self.company(named: "Co \(i)", through: nodes[0].plainClient(apiKey: operatorKey))) }
            let endpoints = etcd.endpoints.joined(separator: ",")

            let dry = try await CommandRunner.run(["cluster", "rebalance", "--etcd", endpoints])
            #expect(dry.status == 0 && dry.output.contains("2 move(s) planned"), "\(dry.output) \(dry.errors)")
            let applied = try await CommandRunner.run(["cluster", "rebalance", "--etcd", endpoints, "--apply"])
            #expect(applied.status == 0, "\(applied.output) \(applied.errors)")
            let store = PlacementStore(etcd: EtcdClient(endpoints: try etcd.endpoints.map(EtcdEndpoint.init(parsing:))))
            let owners = try await store.all().mapValues(\.record.node.rawValue)
            #expect(owners.values.filter { $0 == "node-a" }.count == 2 && owners.values.filter { $0 == "node-b" }.count == 2, "\(owners)")

            // Every company answers through the fleet, with its data (the administrator).
            for company in companies {
                let (client, transport) = MailSync.connect(host: "127.0.0.1", port: nodes[0].process.port, apiKey: company.adminKey)
                defer { transport.close() }
                #expect(try await client.listUsers(ListUsersRequest()).users.map(\.id) == ["alice"])
            }

            // Each node reports its shipping lag in its record (every 5 s).
            try await waitUntil(.seconds(20)) {
                let status = try await CommandRunner.run(["cluster", "status", "--etcd", endpoints])
                return status.output.components(separatedBy: "shipping lag").count == 3
            }
        }
    }

    @Test("new companies go to the least-loaded node: the creating node answers 'moved' when another has fewer, and the client follows")
    func leastLoadedPlacement() async throws {
        try await Self.withFleet(["node-a", "node-b"]) { nodes, etcd, operatorKey in
            let (a, b) = (nodes[0], nodes[1])
            // Through node-a only: a tie stays on node-a, then node-b has fewer, then a tie again.
            let (client, transport) = MailSync.connect(host: "127.0.0.1", port: a.process.port, apiKey: operatorKey)
            defer { transport.close() }
            var created: [String] = []
            for i in 0..<3 {
                created.append(try await client.createCompany(SyncCrashTests.ServeProcess.companyRequest("Spread \(i)")).id)
            }
            let store = PlacementStore(etcd: EtcdClient(endpoints: try etcd.endpoints.map(EtcdEndpoint.init(parsing:))))
            let owners = try await created.asyncMap { try await store.owner(of: $0)?.record.node.rawValue }
            #expect(owners == ["node-a", "node-b", "node-a"])
            for (company, owner) in zip(created, owners) {
                let node = try #require(nodes.first { $0.id == owner })
                let other = node.id == a.id ? b : a
                let tenant = try #require(TenantID(validating: company))
                #expect(FileManager.default.fileExists(atPath: DataDirectory(node.dataDirectory).tenantDatabasePath(tenant)))
                #expect(!FileManager.default.fileExists(atPath: DataDirectory(other.dataDirectory).tenantDatabasePath(tenant)), "made only on its owner")
            }
        }
    }
}

fileprivate extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
