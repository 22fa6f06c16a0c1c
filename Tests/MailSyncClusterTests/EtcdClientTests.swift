import Logging
import MailSyncCluster
import TestSupport
import Testing

/// The etcd client against a real three-member etcd 3.4 cluster on loopback.
@Suite("etcd client against a real three-member cluster")
struct EtcdClientTests {
    static func client(_ cluster: EtcdCluster, timeout: Duration = .seconds(3)) throws -> EtcdClient {
        EtcdClient(endpoints: try cluster.endpoints.map(EtcdEndpoint.init(parsing:)), requestTimeout: timeout)
    }

    @Test("keys: put, get, list by prefix, delete; a missing key is nil")
    func keys() async throws {
        try await EtcdCluster.with { cluster in
            let etcd = try Self.client(cluster)
            #expect(try await etcd.get("/t/missing") == nil)
            let revision = try await etcd.put("/t/a", Array("one".utf8))
            try await etcd.put("/t/b", Array("two".utf8))
            try await etcd.put("/u/c", Array("other".utf8))
            let a = try #require(try await etcd.get("/t/a"))
            #expect(a.value == Array("one".utf8))
            #expect(a.modRevision == revision)
            #expect(a.version == 1)
            #expect(try await etcd.list(prefix: "/t/").map(\.key) == ["/t/a", "/t/b"])
            try await etcd.delete("/t/a")
            #expect(try await etcd.get("/t/a") == nil)
            #expect(try await etcd.list(prefix: "/t/").map(\.key) == ["/t/b"])
        }
    }

    @Test("a transaction's compare decides: create-if-absent succeeds once and the loser reads the winner")
    func transactions() async throws {
        try await EtcdCluster.with { cluster in
            let etcd = try Self.client(cluster)
            let first = try await etcd.transaction([.version("/t/x", equals: 0)], then: [.put("/t/x", [1])], else: [.get("/t/x")])
            let second = try await etcd.transaction([.version("/t/x", equals: 0)], then: [.put("/t/x", [2])], else: [.get("/t/x")])
            #expect(first.succeeded)
            #expect(!second.succeeded)
            #expect(second.reads.first?.first?.value == [1])
            let stale = try await etcd.transaction([.value("/t/x", equals: [9])], then: [.delete("/t/x")])
            #expect(!stale.succeeded)
            #expect(try await etcd.get("/t/x")?.value == [1])
        }
    }

    @Test("a key under a lease goes when the lease is revoked or expires; a gone lease cannot be renewed")
    func leases() async throws {
        try await EtcdCluster.with { cluster in
            let etcd = try Self.client(cluster)
            let short = try await etcd.grantLease(ttlSeconds: 2)
            #expect(short.ttlSeconds == 2)
            try await etcd.put("/t/short", [1], lease: short.id)
            #expect(try await etcd.get("/t/short")?.lease == short.id)
            let renewed = try await etcd.keepAlive(short.id)
            #expect(renewed.ttlSeconds == 2)
            let start = ContinuousClock.now
            while try await etcd.get("/t/short") != nil {
                #expect(ContinuousClock.now - start < .seconds(15), "the lease expired")
                try await Task.sleep(for: .milliseconds(200))
            }
            await #expect(throws: EtcdError.leaseLost(short.id)) { _ = try await etcd.keepAlive(short.id) }

            let revoked = try await etcd.grantLease(ttlSeconds: 60)
            try await etcd.put("/t/revoked", [1], lease: revoked.id)
            try await etcd.revokeLease(revoked.id)
            #expect(try await etcd.get("/t/revoked") == nil)
            await #expect(throws: EtcdError.leaseLost(revoked.id)) { _ = try await etcd.keepAlive(revoked.id) }
        }
    }

    @Test("one member killed changes nothing for the client; quorum lost fails calls clearly; back when it returns")
    func memberFailures() async throws {
        try await EtcdCluster.with { cluster in
            // 3 s per member: a request that reaches a member during an election waits for the new
            // leader (elections here take about a second).
            let etcd = try Self.client(cluster, timeout: .seconds(3))
            try await etcd.put("/t/k", [1])  // the client now prefers member 0
            await cluster.stopMember(0)
            try await etcd.put("/t/k", [2])
            #expect(try await etcd.get("/t/k")?.value == [2])

            // Member 1 frozen too: one of three left, no quorum.
            await cluster.pauseMember(1)
            let failing = ContinuousClock.now
            await #expect {
                try await etcd.put("/t/k", [3])
            } throws: { error in
                guard case EtcdError.unavailable(let detail) = error else { return false }
                return !detail.isEmpty && "\(error)".contains("check that the cluster is up")
            }
            #expect(ContinuousClock.now - failing < .seconds(30), "each member tried once, each within its timeout")

            await cluster.resumeMember(1)
            var written = false
            let resumed = ContinuousClock.now
            while !written, ContinuousClock.now - resumed < .seconds(30) {
                written = (try? await etcd.put("/t/k", [4])) != nil
                if !written { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(written, "writes resume once a quorum is back")
            #expect(try await etcd.get("/t/k")?.value == [4])
        }
    }

    @Test("no member listening: unavailable, naming each endpoint, and nothing hangs")
    func nothingListening() async throws {
        let port = try DovecotServer.freePort()
        let etcd = EtcdClient(endpoints: [EtcdEndpoint(host: "127.0.0.1", port: port)], requestTimeout: .seconds(2))
        await #expect {
            _ = try await etcd.get("/x")
        } throws: { error in
            guard case EtcdError.unavailable(let detail) = error else { return false }
            return detail.contains("127.0.0.1:\(port)")
        }
    }
}
