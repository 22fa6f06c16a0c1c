import Foundation
import Logging
import MailSyncCluster
import TestSupport
import Testing

@Suite("mailsync cluster status: the fleet as etcd records it")
struct ClusterCommandTests {
    @Test("lists live nodes with their companies and mailboxes, and the companies whose owner is gone")
    func status() async throws {
        try await EtcdCluster.with(members: 1) { cluster in
            let endpoints = try cluster.endpoints.map(EtcdEndpoint.init(parsing:))
            let etcd = EtcdClient(endpoints: endpoints)
            let logger = Logger(label: "test.cluster")
            let a = NodeMembership(node: NodeID("node-a")!, address: "10.1.0.1:7420", etcd: etcd, logger: logger)
            let b = NodeMembership(node: NodeID("node-b")!, address: "10.1.0.2:7420", etcd: etcd, logger: logger)
            try await a.join()
            try await b.join()
            try await a.report(mailboxes: 12)
            let store = PlacementStore(etcd: etcd)
            _ = try await store.place("c1", on: a.node)
            _ = try await store.place("c2", on: a.node)
            _ = try await store.place("c3", on: b.node)
            _ = try await store.place("c4", on: NodeID("node-gone")!)

            let result = try await CommandRunner.run(["cluster", "status", "--etcd", cluster.endpoints.joined(separator: ",")])
            #expect(result.status == 0, "\(result.errors)")
            let lines = result.output.split(separator: "\n").map(String.init)
            #expect(lines.first == "2 live node(s), 4 companies placed")
            #expect(lines.contains("  node-a  10.1.0.1:7420  companies 2  mailboxes 12"), "\(lines)")
            #expect(lines.contains("  node-b  10.1.0.2:7420  companies 1  mailboxes 0"), "\(lines)")
            #expect(lines.contains("1 company whose owner is not live (a takeover moves them):"), "\(lines)")
            #expect(lines.contains("  c4  was on node-gone"), "\(lines)")
            await a.leave()
            await b.leave()
        }
    }

    @Test("a bad endpoint or an etcd that does not answer: exit 1 and what to check")
    func failures() async throws {
        let bad = try await CommandRunner.run(["cluster", "status", "--etcd", "https://etcd:2379"])
        #expect(bad.status == 1)
        #expect(bad.errors.contains("TLS to etcd is not supported yet"), "\(bad.errors)")
        let port = try DovecotServer.freePort()
        let silent = try await CommandRunner.run(["cluster", "status", "--etcd", "http://127.0.0.1:\(port)"])
        #expect(silent.status == 1)
        #expect(silent.errors.contains("no etcd member answered"), "\(silent.errors)")
        #expect(silent.output.isEmpty)
    }
}
