/// Where a new company goes: the live node serving the fewest mailboxes, ties broken by the
/// fewest companies, then by node id (so every node computes the same answer from the same view).
public enum PlacementPolicy {
    public struct Load: Sendable, Equatable {
        public var node: NodeID
        public var mailboxes: Int
        public var companies: Int

        public init(node: NodeID, mailboxes: Int, companies: Int) {
            self.node = node
            self.mailboxes = mailboxes
            self.companies = companies
        }
    }

    /// The chosen node, or nil when no node is live.
    public static func leastLoaded(_ loads: [Load]) -> NodeID? {
        loads.min { a, b in
            (a.mailboxes, a.companies, a.node.rawValue) < (b.mailboxes, b.companies, b.node.rawValue)
        }?.node
    }

    /// Spreads an expired node's companies over the live nodes, one at a time to the least
    /// loaded (each assignment adds the company's mailboxes to its new node's load).
    public static func spread(_ companies: [(company: String, mailboxes: Int)], over loads: [Load]) -> [String: NodeID] {
        var loads = loads
        var assignment: [String: NodeID] = [:]
        for (company, mailboxes) in companies.sorted(by: { ($0.mailboxes, $0.company) > ($1.mailboxes, $1.company) }) {
            guard let node = leastLoaded(loads), let index = loads.firstIndex(where: { $0.node == node }) else { break }
            assignment[company] = node
            loads[index].mailboxes = loads[index].mailboxes.addingReportingOverflow(mailboxes).partialValue
            loads[index].companies += 1
        }
        return assignment
    }

    /// Moves that even out the number of companies per live node: while the fullest node holds
    /// at least two more than the emptiest, one of its companies (the smallest id first, so the
    /// plan is the same from the same view) goes to the emptiest. Companies on nodes that are not
    /// live are left to the takeover. Returns the moves in order.
    public static func rebalance(_ placements: [String: NodeID], live: [NodeID]) -> [(company: String, from: NodeID, to: NodeID)] {
        guard live.count > 1 else { return [] }
        var owned: [NodeID: [String]] = Dictionary(uniqueKeysWithValues: live.map { ($0, []) })
        for (company, node) in placements where owned[node] != nil { owned[node]!.append(company) }
        for node in owned.keys { owned[node]!.sort(by: >) }
        var moves: [(company: String, from: NodeID, to: NodeID)] = []
        while true {
            let order = owned.sorted { ($0.value.count, $0.key.rawValue) < ($1.value.count, $1.key.rawValue) }
            guard let emptiest = order.first, let fullest = order.last, fullest.value.count - emptiest.value.count >= 2,
                let company = owned[fullest.key]!.popLast()
            else { return moves }
            owned[emptiest.key]!.append(company)
            moves.append((company, fullest.key, emptiest.key))
        }
    }
}
