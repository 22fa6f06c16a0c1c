// The fleet (issue #15): three `mailsync serve` nodes on a three-member etcd, shipping to
// SeaweedFS, all on 127.0.0.1. Measures, in one run:
//   - redirect cost: a call's latency straight to the owner, the first call of a new client
//     through another node (connect, `moved`, connect to the owner), and the same client's
//     steady state (its owner cache);
//   - planned move downtime: moves back and forth under a writer, each move's time from request to
//     flipped placement and the writer's longest gap between acknowledged writes;
//   - failover time: SIGKILL of the owner, until a call through a survivor is served again
//     (lease expiry, takeover, restore from the bucket), for the given lease.
//
//   make bench builds mailsync in release first; alone:
//   swift build -c release --product mailsync && cd Benchmarks && swift run -c release FleetBenchmarks
//       [--mailsync PATH] [--calls N] [--moves N] [--failovers N] [--lease S]
//
// See docs/benchmarks.md, "Fleet".
import Foundation
import MailSyncClient
import MailSyncCluster
import MailSyncRPC
import MailSyncTransport
import Synchronization
import TestSupport

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: String) -> String {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
let defaultBinary = [root + "/.build/release/mailsync", root + "/.build/debug/mailsync"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? ""
let binary = option("--mailsync", defaultBinary)
let calls = Int(option("--calls", "2000")) ?? 2000
let moves = Int(option("--moves", "6")) ?? 6
let failovers = Int(option("--failovers", "3")) ?? 3
let lease = Int(option("--lease", "4")) ?? 4
guard FileManager.default.isExecutableFile(atPath: binary) else {
    print("error: no mailsync binary (swift build -c release --product mailsync in the repository root, or --mailsync PATH)")
    exit(1)
}
print("mailsync: \(binary)")
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; load \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")

let secretKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
let backupKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()

func run() async throws {
    try await SeaweedFSServer.withServer { bucket in
        try await EtcdCluster.with { etcd in
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("mailsync-fleet-bench-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: work + "/node-a", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: work) }
            let environment = [
                "MAILSYNC_SECRET_KEY": secretKey, "MAILSYNC_BACKUP_KEY": backupKey,
                "MAILSYNC_S3_ACCESS_KEY_ID": bucket.accessKeyID, "MAILSYNC_S3_SECRET_ACCESS_KEY": bucket.secretAccessKey,
            ]
            let operatorKey = try operatorKey(work + "/node-a", environment: environment)
            let nodes = try ["node-a", "node-b", "node-c"].map {
                try FleetNode(id: $0, root: work, binary: binary, etcd: etcd.endpoints, bucket: bucket, leaseSeconds: lease, environment: environment)
            }
            defer { for node in nodes { node.kill() } }
            for node in nodes { try node.start() }
            for node in nodes { try await node.waitUntilServing() }
            let etcdClient = EtcdClient(endpoints: try etcd.endpoints.map(EtcdEndpoint.init(parsing:)))
            let placements = PlacementStore(etcd: etcdClient)

            // A company on node-a, and its administrator's key.
            let (operatorClient, operatorTransport) = MailSync.connect(host: "127.0.0.1", port: nodes[0].port, apiKey: operatorKey)
            defer { operatorTransport.close() }
            var create = MailSync.CreateCompanyRequest()
            create.name = "Bench Co"
            create.plan = .essential
            create.administrator.id = "alice"
            create.administrator.name = "Alice"
            create.administrator.email = "alice@bench.example"
            let company = try await operatorClient.createCompany(create)
            var keyRequest = MailSync.CreateApiKeyRequest()
            keyRequest.companyId = company.id
            keyRequest.userId = "alice"
            let adminKey = try await operatorClient.createApiKey(keyRequest).secret

            try await redirectCost(nodes: nodes, apiKey: adminKey)
            try await moveDowntime(nodes: nodes, apiKey: adminKey, company: company.id, placements: placements, etcd: etcdClient)
            try await failoverTime(nodes: nodes, apiKey: adminKey, company: company.id, placements: placements)
        }
    }
}

func operatorKey(_ dataDirectory: String, environment: [String: String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = ["keys", "create-operator", "--data-dir", dataDirectory, "--json"]
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard let secret = (try JSONSerialization.jsonObject(with: data) as? [String: String])?["secret"] else {
        throw BenchmarkError("mailsync keys create-operator printed no secret")
    }
    return secret
}

/// Latency of a small read (ListUsers) straight to the owner, a new client's first call through
/// another node, and that client's later calls.
func redirectCost(nodes: [FleetNode], apiKey: String) async throws {
    let owner = nodes[0], other = nodes[1]
    func timed(_ client: MailSync.Client) async throws -> Duration {
        let started = ContinuousClock.now
        _ = try await client.listUsers(MailSync.ListUsersRequest())
        return ContinuousClock.now - started
    }
    let (direct, directTransport) = MailSync.connect(host: "127.0.0.1", port: owner.port, apiKey: apiKey)
    defer { directTransport.close() }
    _ = try await timed(direct)
    var steadyDirect: [Duration] = []
    for _ in 0..<calls { steadyDirect.append(try await timed(direct)) }
    var firstDirect: [Duration] = [], firstRedirected: [Duration] = [], steadyRedirected: [Duration] = []
    for round in 0..<50 {
        let (fresh, freshTransport) = MailSync.connect(host: "127.0.0.1", port: owner.port, apiKey: apiKey)
        firstDirect.append(try await timed(fresh))
        freshTransport.close()
        let (routed, routedTransport) = MailSync.connect(host: "127.0.0.1", port: other.port, apiKey: apiKey)
        firstRedirected.append(try await timed(routed))
        if round == 0 { for _ in 0..<calls { steadyRedirected.append(try await timed(routed)) } }
        routedTransport.close()
    }
    print("\nredirect cost (ListUsers, 1 in flight; p50 / p99):")
    print("  steady state, straight to the owner:        \(ms(percentile(steadyDirect, 0.5))) / \(ms(percentile(steadyDirect, 0.99)))  (\(calls) calls)")
    print("  steady state, through node-b (cached owner): \(ms(percentile(steadyRedirected, 0.5))) / \(ms(percentile(steadyRedirected, 0.99)))  (\(calls) calls)")
    print("  first call of a new client, to the owner:   \(ms(percentile(firstDirect, 0.5))) / \(ms(percentile(firstDirect, 0.99)))  (50 clients; includes connecting)")
    print("  first call of a new client, through node-b: \(ms(percentile(firstRedirected, 0.5))) / \(ms(percentile(firstRedirected, 0.99)))  (50 clients; connect, moved, connect to the owner)")
}

/// Moves back and forth under a writer that creates a user per call through the routing client.
func moveDowntime(nodes: [FleetNode], apiKey: String, company: String, placements: PlacementStore, etcd: EtcdClient) async throws {
    let acknowledged = Mutex<[ContinuousClock.Instant]>([])
    let failures = Mutex(0)
    let failureKinds = Mutex<[String: Int]>([:])
    let writer = Task {
        let (client, transport) = MailSync.connect(host: "127.0.0.1", port: nodes[2].port, apiKey: apiKey)
        defer { transport.close() }
        var i = 0
        while !Task.isCancelled {
            i += 1
            var user = MailSync.CreateUserRequest()
            user.id = "w\(i)"
            user.name = "W \(i)"
            user.email = "w\(i)@bench.example"
            user.role = .salesperson
            do {
                _ = try await client.createUser(user)
                acknowledged.withLock { $0.append(.now) }
            } catch {
                failures.withLock { $0 += 1 }
                failureKinds.withLock { $0[String("\(error)".prefix(90)), default: 0] += 1 }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
    }
    try await Task.sleep(for: .seconds(1))
    var flips: [Duration] = [], gaps: [Duration] = []
    let keys = ClusterKeys()
    for index in 0..<moves {
        let target = NodeID(index % 2 == 0 ? "node-b" : "node-a")!
        guard let before = try await placements.owner(of: company) else { throw BenchmarkError("no placement") }
        let requested = ContinuousClock.now
        _ = try await etcd.put(keys.move(company), try ClusterJSON.encode(MoveRequest(to: target, id: UUID().uuidString)))
        while try await placements.owner(of: company)?.record.node != target {
            if let kv = try await etcd.get(keys.move(company)), let request = try? ClusterJSON.decode(MoveRequest.self, kv), let error = request.error {
                throw BenchmarkError("move failed: \(error)")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        flips.append(ContinuousClock.now - requested)
        try await Task.sleep(for: .seconds(1.5))
        let times = acknowledged.withLock { $0 }.filter { $0 >= requested - .seconds(1) }
        gaps.append(zip(times.dropFirst(), times).map { $0.0 - $0.1 }.max() ?? .zero)
        _ = before
    }
    writer.cancel()
    _ = await writer.result
    print("\nplanned moves of a small company under a writer (\(moves) moves; \(acknowledged.withLock { $0.count }) writes acknowledged, \(failures.withLock { $0 }) failed):")
    for (kind, count) in failureKinds.withLock({ $0 }).sorted(by: { $0.value > $1.value }).prefix(5) { print("  failed \(count)x: \(kind)") }
    print("  request to flipped placement: p50 \(ms(percentile(flips, 0.5))), max \(ms(flips.max() ?? .zero))")
    print("  writer's longest gap per move: p50 \(ms(percentile(gaps, 0.5))), max \(ms(gaps.max() ?? .zero))  (drain, final ship, flip, redirect, restore on the new node)")
}

/// SIGKILL of the owner, until a call through a survivor is served; the node is started again.
func failoverTime(nodes: [FleetNode], apiKey: String, company: String, placements: PlacementStore) async throws {
    var times: [Duration] = []
    for _ in 0..<failovers {
        guard let owner = try await placements.owner(of: company), let node = nodes.first(where: { $0.id == owner.record.node.rawValue }) else {
            throw BenchmarkError("no owner")
        }
        try await Task.sleep(for: .seconds(1))  // its last writes ship
        node.kill()
        let killed = ContinuousClock.now
        let survivor = nodes.first { $0.id != node.id }!
        while true {
            let (client, transport) = MailSync.connect(host: "127.0.0.1", port: survivor.port, apiKey: apiKey, timeout: .seconds(2))
            defer { transport.close() }
            if (try? await client.listUsers(MailSync.ListUsersRequest())) != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        times.append(ContinuousClock.now - killed)
        try node.start()
        try await node.waitUntilServing()
    }
    print("\nfailover (lease \(lease) s, fence margin 1 s; \(failovers) SIGKILLs of the owner):")
    print("  SIGKILL to served again through a survivor: p50 \(ms(percentile(times, 0.5))), max \(ms(times.max() ?? .zero))")
}

do {
    try await run()
} catch {
    print("error: \(error)")
    exit(1)
}
