import MailSyncCluster
@testable import MailSyncService
import Testing

/// `cluster` in the config (and `serve --cluster-etcd …`): checked at start, each mistake named.
@Suite("Settings: cluster")
struct ClusterSettingsTests {
    static let etcd = ["http://127.0.0.1:2379", "http://127.0.0.1:2381"]

    @Test("defaults filled in: the listen address advertised, /mailsync/, a 10 s lease with a 2 s margin")
    func defaults() throws {
        let resolved = try ClusterSettings(etcd: Self.etcd, node: "node-a").resolve(listen: "10.0.1.21:7420")
        #expect(resolved.endpoints.map(\.description) == Self.etcd)
        #expect(resolved.node == NodeID("node-a"))
        #expect(resolved.advertise == "10.0.1.21:7420")
        #expect(resolved.keys == ClusterKeys(prefix: "/mailsync/"))
        #expect(resolved.lease == .seconds(10) && resolved.margin == .seconds(2))
        #expect(resolved.placeOnLeastLoaded)
        #expect(try !ClusterSettings(etcd: Self.etcd, node: "a", placeNewCompanies: "creatingNode").resolve(listen: "10.0.0.1:1").placeOnLeastLoaded)
    }

    @Test("refused, naming the field", arguments: [
        (ClusterSettings(etcd: [], node: "a"), "cluster.etcd"),
        (ClusterSettings(etcd: ["https://127.0.0.1:2379"], node: "a"), "cluster.etcd"),
        (ClusterSettings(etcd: etcd, node: "Node_A"), "cluster.node"),
        (ClusterSettings(etcd: etcd, node: nil), "cluster.node"),
        (ClusterSettings(etcd: etcd, node: "-a"), "cluster.node"),
        (ClusterSettings(etcd: etcd, node: "a", advertise: "0.0.0.0:7420"), "cluster.advertise"),
        (ClusterSettings(etcd: etcd, node: "a", advertise: "host"), "cluster.advertise"),
        (ClusterSettings(etcd: etcd, node: "a", advertise: "h:99999"), "cluster.advertise"),
        (ClusterSettings(etcd: etcd, node: "a", advertise: "h;rm -rf:1"), "cluster.advertise"),
        (ClusterSettings(etcd: etcd, node: "a", prefix: "mailsync/"), "cluster.prefix"),
        (ClusterSettings(etcd: etcd, node: "a", leaseSeconds: 2), "cluster.leaseSeconds"),
        (ClusterSettings(etcd: etcd, node: "a", leaseSeconds: 301), "cluster.leaseSeconds"),
        (ClusterSettings(etcd: etcd, node: "a", leaseSeconds: 6, fenceMarginSeconds: 2), "cluster.fenceMarginSeconds"),
        (ClusterSettings(etcd: etcd, node: "a", fenceMarginSeconds: 0), "cluster.fenceMarginSeconds"),
        (ClusterSettings(etcd: etcd, node: "a", placeNewCompanies: "random"), "cluster.placeNewCompanies"),
    ])
    func refused(settings: ClusterSettings, field: String) {
        let error = #expect(throws: SettingsError.self) { _ = try settings.resolve(listen: "127.0.0.1:7420") }
        #expect(error?.description.contains(field) == true, "\(String(describing: error))")
    }

    @Test("a wildcard listen address needs cluster.advertise")
    func wildcardListen() throws {
        #expect(throws: SettingsError.self) { _ = try ClusterSettings(etcd: Self.etcd, node: "a").resolve(listen: "0.0.0.0:7420") }
        let resolved = try ClusterSettings(etcd: Self.etcd, node: "a", advertise: "node-a.internal:7420").resolve(listen: "0.0.0.0:7420")
        #expect(resolved.advertise == "node-a.internal:7420")
    }

    @Test("flags override the file's cluster fields one by one")
    func overridden() {
        var file = ServerSettings()
        file.cluster = ClusterSettings(etcd: Self.etcd, node: "node-a", leaseSeconds: 20)
        var flags = ServerSettings()
        flags.cluster = ClusterSettings(node: "node-b")
        let merged = file.overridden(by: flags).cluster
        #expect(merged == ClusterSettings(etcd: Self.etcd, node: "node-b", leaseSeconds: 20))
    }
}
