import Testing
@testable import MailSyncCluster

@Suite("Placement policy and cluster records")
struct PlacementPolicyTests {
    func id(_ text: String) -> NodeID { NodeID(text)! }

    @Test("a new company goes to the node with the fewest mailboxes, then fewest companies, then by id")
    func leastLoaded() {
        let loads: [PlacementPolicy.Load] = [
            .init(node: id("b"), mailboxes: 10, companies: 1),
            .init(node: id("a"), mailboxes: 10, companies: 1),
            .init(node: id("c"), mailboxes: 10, companies: 0),
            .init(node: id("d"), mailboxes: 11, companies: 0),
        ]
        #expect(PlacementPolicy.leastLoaded(loads) == id("c"))
        #expect(PlacementPolicy.leastLoaded(Array(loads.prefix(2))) == id("a"))
        #expect(PlacementPolicy.leastLoaded([]) == nil)
    }

    @Test("a dead node's companies are spread, the largest first, each to the least loaded then")
    func spread() {
        let loads: [PlacementPolicy.Load] = [.init(node: id("a"), mailboxes: 0, companies: 0), .init(node: id("b"), mailboxes: 5, companies: 0)]
        let plan = PlacementPolicy.spread([("x", 10), ("y", 3), ("z", 1), ("w", Int.max)], over: loads)
        #expect(plan["w"] == id("a"))
        #expect(plan["x"] == id("b"))
        #expect(plan["y"] == id("b"))
        #expect(plan.count == 4)
        #expect(PlacementPolicy.spread([("x", 1)], over: []).isEmpty)
    }

    @Test("rebalancing evens out companies per live node, leaves the dead node's alone, and is the same from the same view")
    func rebalance() {
        let (a, b, c, dead) = (NodeID("a")!, NodeID("b")!, NodeID("c")!, NodeID("dead")!)
        var placements: [String: NodeID] = [:]
        for i in 0..<7 { placements["c\(i)"] = a }
        placements["d0"] = dead
        let plan = PlacementPolicy.rebalance(placements, live: [a, b, c])
        #expect(plan.count == 4)
        #expect(plan.allSatisfy { $0.from == a && $0.company.hasPrefix("c") })
        var after = placements
        for move in plan { after[move.company] = move.to }
        let counts = [a, b, c].map { node in after.values.filter { $0 == node }.count }
        #expect(counts.max()! - counts.min()! <= 1, "\(counts)")
        #expect(after["d0"] == dead)
        #expect(PlacementPolicy.rebalance(placements, live: [c, b, a]).map(\.company) == plan.map(\.company))
        #expect(PlacementPolicy.rebalance(after, live: [a, b, c]).isEmpty, "balanced: nothing more")
        #expect(PlacementPolicy.rebalance(placements, live: [a]).isEmpty)
    }

    @Test("node ids are what keys and labels can carry")
    func nodeIDs() {
        for good in ["a", "node-1", String(repeating: "x", count: 63)] { #expect(NodeID(good) != nil, "\(good)") }
        for bad in ["", "-a", "A", "a/b", "a b", "é", String(repeating: "x", count: 64), "../x"] { #expect(NodeID(bad) == nil, "\(bad)") }
    }

    @Test("endpoints parse as http://HOST:PORT and refuse the rest with the reason")
    func endpoints() throws {
        #expect(try EtcdEndpoint(parsing: "http://127.0.0.1:2379") == EtcdEndpoint(host: "127.0.0.1", port: 2379))
        #expect(try EtcdEndpoint(parsing: "etcd-1.internal:2379/") == EtcdEndpoint(host: "etcd-1.internal", port: 2379))
        for bad in ["https://x:1", "x", "x:0", "x:70000", ":1", "a b:1", "http://x:y"] {
            #expect(throws: EtcdError.self, "\(bad)") { try EtcdEndpoint(parsing: bad) }
        }
    }

    @Test("the prefix end covers exactly the keys under the prefix")
    func prefixEnd() {
        #expect(EtcdJSON.prefixEnd("/a/") == Array("/a0".utf8))
        #expect(EtcdJSON.prefixEnd("") == [0])
    }
}
