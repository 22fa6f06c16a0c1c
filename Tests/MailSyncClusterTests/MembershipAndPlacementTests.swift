import Logging
import MailSyncCluster
import TestSupport
import Testing

@Suite("Membership under a lease, and placements with epochs, on a real etcd cluster")
struct MembershipAndPlacementTests {
    static let logger = Logger(label: "test.cluster")

    @Test("a joined node is listed with its address; it stays while it renews; leaving removes it at once")
    func joinRenewLeave() async throws {
        try await EtcdCluster.with { cluster in
            let etcd = EtcdClient(endpoints: try cluster.endpoints.map(EtcdEndpoint.init(parsing:)))
            let node = NodeMembership(
                node: NodeID("node-a")!, address: "127.0.0.1:7001", etcd: etcd, ttl: .seconds(8), margin: .seconds(1), logger: Self.logger)
            try await node.join()
            #expect(await node.mayWrite)
            #expect(try await NodeMembership.liveNodes(etcd: etcd).map(\.address) == ["127.0.0.1:7001"])
            // Longer than the TTL: renewals (every 8/3 s) keep the record and the fence alive. The
            // margin is wide (7 s without a renewal) so a loaded machine does not close it.
            try await Task.sleep(for: .seconds(9))
            #expect(await node.mayWrite)
            #expect(try await NodeMembership.liveNodes(etcd: etcd).count == 1)
            try await node.report(mailboxes: 42)
            #expect(try await NodeMembership.liveNodes(etcd: etcd).first?.mailboxes == 42)
            await node.leave()
            #expect(!(await node.mayWrite))
            #expect(try await NodeMembership.liveNodes(etcd: etcd).isEmpty)
        }
    }

    @Test("cut off from etcd, the node's fence closes before etcd can have let its lease expire; the lease lost, it stays closed")
    func fenceClosesFirst() async throws {
        try await EtcdCluster.with { cluster in
            let endpoints = try cluster.endpoints.map(EtcdEndpoint.init(parsing:))
            // The node reaches etcd through member 0 only; the observer through the others. Member
            // 0 is frozen (SIGSTOP): the node's renewals hang and time out.
            let nodeView = EtcdClient(endpoints: [endpoints[0]], requestTimeout: .seconds(1))
            let observer = EtcdClient(endpoints: Array(endpoints[1...]), requestTimeout: .seconds(2))
            let node = NodeMembership(
                node: NodeID("node-b")!, address: "127.0.0.1:7002", etcd: nodeView, ttl: .seconds(8), margin: .seconds(4), logger: Self.logger)
            try await node.join()
            await cluster.pauseMember(0)
            var closedWhileRecordPresent = false
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(20) {
                if !(await node.mayWrite) {
                    closedWhileRecordPresent = try await observer.get("/mailsync/nodes/node-b") != nil
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(closedWhileRecordPresent, "the fence closed while etcd still held the node's lease")
            // Then etcd lets the lease expire: the record goes.
            while try await observer.get("/mailsync/nodes/node-b") != nil {
                #expect(ContinuousClock.now - start < .seconds(30))
                try await Task.sleep(for: .milliseconds(200))
            }
            await cluster.resumeMember(0)
            // The member catches up with the others, then tells the node its lease is gone.
            var renewed = true
            let resumed = ContinuousClock.now
            while renewed, ContinuousClock.now - resumed < .seconds(20) {
                renewed = await node.renewOnce()
                if renewed { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(!renewed, "etcd says the lease is gone")
            #expect(!(await node.mayWrite))
            try await node.join()
            #expect(await node.mayWrite, "joining again opens a new fence")
            await node.leave()
        }
    }

    @Test("placement: two nodes place the same company at once and exactly one wins; moves compare the epoch read")
    func placements() async throws {
        try await EtcdCluster.with { cluster in
            let etcd = EtcdClient(endpoints: try cluster.endpoints.map(EtcdEndpoint.init(parsing:)))
            let store = PlacementStore(etcd: etcd)
            let a = NodeID("node-a")!, b = NodeID("node-b")!, c = NodeID("node-c")!
            async let first = store.place("company-1", on: a)
            async let second = store.place("company-1", on: b)
            let (one, two) = try await (first, second)
            #expect(one == two, "both callers see the same winner")
            #expect(one.record.epoch == 1)
            let owner = try #require(try await store.owner(of: "company-1"))
            #expect(owner == one)

            let moved = try #require(try await store.move("company-1", from: owner, to: c))
            #expect(moved.record == PlacementRecord(node: c, epoch: 2))
            // A takeover decided on the old read loses: the company moved meanwhile.
            #expect(try await store.move("company-1", from: owner, to: a) == nil)
            #expect(try await store.owner(of: "company-1")?.record == PlacementRecord(node: c, epoch: 2))
            #expect(try await store.all().keys.sorted() == ["company-1"])
            #expect(try await store.remove("company-1", expected: owner) == false)
            #expect(try await store.remove("company-1", expected: moved))
            #expect(try await store.owner(of: "company-1") == nil)
        }
    }

    @Test("a record that is not a placement is an error naming its key, never skipped")
    func badRecord() async throws {
        try await EtcdCluster.with(members: 1) { cluster in
            let etcd = EtcdClient(endpoints: try cluster.endpoints.map(EtcdEndpoint.init(parsing:)))
            try await etcd.put("/mailsync/placement/broken", Array("{\"node\":\"../x\",\"epoch\":1}".utf8))
            await #expect {
                _ = try await PlacementStore(etcd: etcd).all()
            } throws: { "\($0)".contains("/mailsync/placement/broken") }
        }
    }
}
