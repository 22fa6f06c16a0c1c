import Logging
import MailSyncCluster
import TestSupport
import Testing

@Suite("Takeover: a dead node's companies go to the live ones, each exactly once")
struct TakeoverTests {
    static let logger = Logger(label: "test.cluster")

    @Test("a node that stops renewing loses its companies once its lease has expired; two survivors racing move each once")
    func failover() async throws {
        try await EtcdCluster.with { cluster in
            let endpoints = try cluster.endpoints.map(EtcdEndpoint.init(parsing:))
            let etcd = EtcdClient(endpoints: endpoints)
            func member(_ name: String, ttl: Duration) -> NodeMembership {
                NodeMembership(node: NodeID(name)!, address: "127.0.0.1:\(name.count)", etcd: EtcdClient(endpoints: endpoints),
                    ttl: ttl, margin: .seconds(1), logger: Self.logger)
            }
            // node-a's lease is short (it is the one that dies); the survivors' are long enough
            // that a loaded machine never lets them lapse during the test.
            let a = member("node-a", ttl: .seconds(3)), b = member("node-b", ttl: .seconds(20)), c = member("node-c", ttl: .seconds(20))
            for node in [a, b, c] { try await node.join() }
            let store = PlacementStore(etcd: etcd)
            let companies = (1...6).map { "company-\($0)" }
            for company in companies { _ = try await store.place(company, on: a.node) }
            _ = try await store.place("company-b", on: b.node)

            // While node-a lives, nothing moves.
            #expect(try await Takeover(placements: store).run() == Takeover.Outcome())

            await a.abandon()  // a crash: no revoke; the record stays until the lease expires
            let start = ContinuousClock.now
            while try await NodeMembership.liveNodes(etcd: etcd).contains(where: { $0.node == a.node }) {
                #expect(ContinuousClock.now - start < .seconds(20), "node-a's lease expired")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!(await a.mayWrite), "node-a's fence closed before its record went")

            async let fromB = Takeover(placements: PlacementStore(etcd: EtcdClient(endpoints: endpoints))).run()
            async let fromC = Takeover(placements: PlacementStore(etcd: EtcdClient(endpoints: endpoints))).run()
            let (byB, byC) = try await (fromB, fromC)
            let movedByBoth = Set(byB.moved.keys).intersection(byC.moved.keys)
            #expect(movedByBoth.isEmpty, "no company moved twice: \(movedByBoth)")
            #expect(Set(byB.moved.keys).union(byC.moved.keys) == Set(companies))

            let after = try await store.all()
            for company in companies {
                let record = try #require(after[company]?.record)
                #expect(record.epoch == 2, "\(company) changed owner once")
                #expect(record.node == b.node || record.node == c.node)
            }
            #expect(after["company-b"]?.record == PlacementRecord(node: b.node, epoch: 1), "a live node's company stays")
            let onB = companies.filter { after[$0]?.record.node == b.node }.count
            #expect(onB == 2 || onB == 3, "spread: node-b already had one company (\(onB) of 6 went to it)")
            await b.leave()
            await c.leave()
        }
    }
}
