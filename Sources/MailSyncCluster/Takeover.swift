/// Giving the companies of nodes that are gone to the nodes that are live.
///
/// Any live node may run a takeover, and several may run at once: each move is a compare-and-swap
/// on the placement that was read (``PlacementStore/move(_:from:to:)``), so a company changes
/// owner once per departure, whoever wins. The plan spreads the companies over the live nodes,
/// the largest first, each to the least loaded (``PlacementPolicy/spread(_:over:)``).
///
/// A company's new owner must not serve it before the old owner's fence has closed. The old
/// owner's record disappears when etcd let its lease expire, and its fence closed `margin` before
/// that (``LeaseFence``), so acting on a missing record is safe by construction.
public struct Takeover: Sendable {
    public let placements: PlacementStore

    public init(placements: PlacementStore) {
        self.placements = placements
    }

    /// What one pass did.
    public struct Outcome: Sendable, Equatable {
        /// Companies this pass moved, to whom.
        public var moved: [String: NodeID] = [:]
        /// Companies another node moved first (their placement changed under this pass).
        public var lostRaces: [String] = []

        public init(moved: [String: NodeID] = [:], lostRaces: [String] = []) {
            self.moved = moved
            self.lostRaces = lostRaces
        }
    }

    /// Moves every company whose owner has no live record to a live node. `mailboxes` gives each
    /// company's size for the spread (missing: 0). Throws when etcd cannot be read; moves done
    /// before a failure stay done (each is its own transaction).
    public func run(mailboxes: [String: Int] = [:]) async throws -> Outcome {
        let live = try await NodeMembership.liveNodes(etcd: placements.etcd, keys: placements.keys)
        let all = try await placements.all()
        let liveIDs = Set(live.map(\.node))
        let orphans = all.filter { !liveIDs.contains($0.value.record.node) }
        guard !orphans.isEmpty, !live.isEmpty else { return Outcome() }
        var companiesPerNode: [NodeID: Int] = [:]
        for read in all.values where liveIDs.contains(read.record.node) { companiesPerNode[read.record.node, default: 0] += 1 }
        let loads = live.map { PlacementPolicy.Load(node: $0.node, mailboxes: $0.mailboxes, companies: companiesPerNode[$0.node] ?? 0) }
        let plan = PlacementPolicy.spread(orphans.keys.map { ($0, mailboxes[$0] ?? 0) }, over: loads)
        var outcome = Outcome()
        for (company, node) in plan.sorted(by: { $0.key < $1.key }) {
            guard let read = orphans[company] else { continue }
            if try await placements.move(company, from: read, to: node) != nil {
                outcome.moved[company] = node
            } else {
                outcome.lostRaces.append(company)
            }
        }
        return outcome
    }
}
