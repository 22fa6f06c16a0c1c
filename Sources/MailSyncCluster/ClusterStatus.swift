/// What `mailsync cluster status` shows: the live nodes, how many companies each owns, and the
/// companies whose owner is not live (waiting for a takeover), read from etcd in two requests.
public struct ClusterStatus: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public var record: NodeRecord
        public var companies: Int
    }

    /// Live nodes, by id.
    public var nodes: [Node]
    /// Companies whose owner has no live record, with that owner.
    public var orphans: [(company: String, owner: NodeID)]
    /// All placements.
    public var companies: Int

    public static func == (a: ClusterStatus, b: ClusterStatus) -> Bool {
        a.nodes == b.nodes && a.companies == b.companies
            && a.orphans.map(\.company) == b.orphans.map(\.company) && a.orphans.map(\.owner) == b.orphans.map(\.owner)
    }

    public static func read(from etcd: EtcdClient, keys: ClusterKeys = ClusterKeys()) async throws -> ClusterStatus {
        let live = try await NodeMembership.liveNodes(etcd: etcd, keys: keys)
        let placements = try await PlacementStore(etcd: etcd, keys: keys).all()
        var owned: [NodeID: Int] = [:]
        for read in placements.values { owned[read.record.node, default: 0] += 1 }
        let liveIDs = Set(live.map(\.node))
        return ClusterStatus(
            nodes: live.sorted { $0.node.rawValue < $1.node.rawValue }.map { Node(record: $0, companies: owned[$0.node] ?? 0) },
            orphans: placements.filter { !liveIDs.contains($0.value.record.node) }.map { ($0.key, $0.value.record.node) }.sorted { $0.0 < $1.0 },
            companies: placements.count)
    }

    /// The report as text, one line per node, then the orphans (at most `maxOrphansListed`, 50).
    public func text(maxOrphansListed: Int = 50) -> String {
        var lines = ["\(nodes.count) live node(s), \(companies) compan\(companies == 1 ? "y" : "ies") placed"]
        for node in nodes {
            let lag = node.record.shippingLagSeconds.map { String(format: "  shipping lag %.1f s", $0) } ?? ""
            lines.append("  \(node.record.node)  \(node.record.address)  companies \(node.companies)  mailboxes \(node.record.mailboxes)\(lag)")
        }
        if orphans.isEmpty {
            lines.append("every company's owner is live")
        } else {
            lines.append("\(orphans.count) compan\(orphans.count == 1 ? "y" : "ies") whose owner is not live (a takeover moves them):")
            for orphan in orphans.prefix(maxOrphansListed) { lines.append("  \(orphan.company)  was on \(orphan.owner)") }
            if orphans.count > maxOrphansListed { lines.append("  … and \(orphans.count - maxOrphansListed) more") }
        }
        return lines.joined(separator: "\n")
    }
}
