import Logging
import MailSyncCluster
import TestSupport
import Testing

@Suite("Ownership gate: serve a company only as its placed owner with an open fence")
struct OwnershipGateTests {
    @Test("owner, elsewhere with the owner's address, unplaced, fenced; a move is seen after forget or the cache time")
    func verdicts() async throws {
        try await EtcdCluster.with(members: 1) { cluster in
            let etcd = EtcdClient(endpoints: try cluster.endpoints.map(EtcdEndpoint.init(parsing:)))
            let logger = Logger(label: "test.cluster")
            let a = NodeMembership(node: NodeID("node-a")!, address: "127.0.0.1:7001", etcd: etcd, ttl: .seconds(20), margin: .seconds(2), logger: logger)
            let b = NodeMembership(node: NodeID("node-b")!, address: "127.0.0.1:7002", etcd: etcd, ttl: .seconds(20), margin: .seconds(2), logger: logger)
            try await a.join()
            try await b.join()
            let store = PlacementStore(etcd: etcd)
            let onA = try await store.place("c-a", on: a.node)
            _ = try await store.place("c-b", on: b.node)
            let gate = OwnershipGate(membership: a, placements: store, cacheFor: .seconds(60))

            #expect(try await gate.verdict(for: "c-a") == .owner(epoch: 1))
            #expect(try await gate.verdict(for: "c-b") == .elsewhere(b.node, address: "127.0.0.1:7002"))
            #expect(try await gate.verdict(for: "nobody") == .unplaced)

            // Moved away (a planned move: the old owner forgets the company when it drains it).
            _ = try #require(try await store.move("c-a", from: onA, to: b.node))
            #expect(try await gate.verdict(for: "c-a") == .owner(epoch: 1), "cached for 60 s")
            await gate.forget("c-a")
            #expect(try await gate.verdict(for: "c-a") == .elsewhere(b.node, address: "127.0.0.1:7002"))

            // Its owner gone: elsewhere, with no address to send callers to.
            await b.leave()
            let fresh = OwnershipGate(membership: a, placements: store, cacheFor: .zero)
            #expect(try await fresh.verdict(for: "c-b") == .elsewhere(b.node, address: nil))

            // This node's fence closed: nothing, whatever the placements say.
            await a.leave()
            #expect(try await gate.verdict(for: "c-a") == .fenced)
            #expect(try await fresh.verdict(for: "c-b") == .fenced)
        }
    }

    @Test("etcd unreachable: a company this node owned at its last read stays its own while the fence is open; others are errors")
    func etcdUnreachable() async throws {
        try await EtcdCluster.with(members: 1) { cluster in
            let etcd = EtcdClient(endpoints: try cluster.endpoints.map(EtcdEndpoint.init(parsing:)), requestTimeout: .seconds(1))
            let logger = Logger(label: "test.cluster")
            let a = NodeMembership(node: NodeID("node-a")!, address: "127.0.0.1:7001", etcd: etcd, ttl: .seconds(30), margin: .seconds(2), logger: logger)
            try await a.join()
            let store = PlacementStore(etcd: etcd)
            _ = try await store.place("c-a", on: a.node)
            _ = try await store.place("c-b", on: NodeID("node-b")!)
            let gate = OwnershipGate(membership: a, placements: store, cacheFor: .zero)
            #expect(try await gate.verdict(for: "c-a") == .owner(epoch: 1))
            _ = try await gate.verdict(for: "c-b")

            await cluster.pauseMember(0)
            defer { Task { await cluster.resumeMember(0) } }
            #expect(try await gate.verdict(for: "c-a") == .owner(epoch: 1), "the owner keeps serving through an etcd outage")
            await #expect(throws: EtcdError.self) { _ = try await gate.verdict(for: "c-b") }
            await #expect(throws: EtcdError.self) { _ = try await gate.verdict(for: "never-read") }
            await cluster.resumeMember(0)
        }
    }
}
