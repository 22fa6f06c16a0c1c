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
}
