/// A node's answer to "may I serve this company now?", asked before each call and each sync
/// run: it may only while the company's placement names this node *and* the node's lease fence
/// is open.
///
/// Placements naming this node are cached for `cacheFor` (default 2 s) to keep etcd off the hot
/// path; any other answer is read fresh from etcd. When etcd cannot be read, a company this node
/// owned at its last read stays its own while the fence is open (an etcd election does not stop
/// the owner); anything else is an error. A stale
/// cache cannot let two nodes write: in a failover the old owner's fence is closed before its
/// companies move (``LeaseFence``), and in a planned move the old owner calls ``forget(_:)`` when
/// it drains the company, before the placement flips. The fence is checked on every call, never
/// cached.
public actor OwnershipGate {
    public enum Verdict: Sendable, Equatable {
        /// This node owns the company under this epoch.
        case owner(epoch: Int64)
        /// Another node owns it; `address` is where callers reach it (nil: that node is not
        /// live now, its companies wait for a takeover).
        case elsewhere(NodeID, address: String?)
        /// No node owns it (unknown company, or not placed yet).
        case unplaced
        /// This node's lease fence is closed: it owns nothing until it joins again.
        case fenced
    }

    private let membership: NodeMembership
    private let placements: PlacementStore
    private let cacheFor: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private var cache: [String: (read: PlacementStore.Read?, at: ContinuousClock.Instant)] = [:]
    private var addresses: (nodes: [NodeID: String], at: ContinuousClock.Instant)?
    /// The lease the cache was filled under: a node that joins again forgets everything.
    private var cacheLease: Int64?
    /// At most this many companies cached (the oldest entries go first past it).
    public let maxCached: Int

    public init(
        membership: NodeMembership, placements: PlacementStore, cacheFor: Duration = .seconds(2), maxCached: Int = 100_000,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.membership = membership
        self.placements = placements
        self.cacheFor = cacheFor
        self.maxCached = max(1, maxCached)
        self.now = now
    }

    /// The verdict for `company`. With `confirmingRedirects` (default) an answer other than
    /// "owner" is read fresh from etcd; without, it may come from the cache (background checks).
    /// Throws when etcd must be read and cannot be.
    public func verdict(for company: String, confirmingRedirects: Bool = true) async throws -> Verdict {
        guard membership.mayWrite else { return .fenced }
        let lease = membership.fence.leaseID
        if lease != cacheLease {
            cache.removeAll()
            cacheLease = lease
        }
        var read: PlacementStore.Read?
        do {
            read = try await placement(of: company)
        } catch {
            // etcd cannot be read (an election, a member gone): a company this node owned at the
            // last read stays its own while the fence is open. No other node can take it before
            // this node's lease ends, and a planned move needs this node's own hand-over.
            if let known = cache[company]?.read, known.record.node == membership.node, membership.mayWrite {
                return .owner(epoch: known.record.epoch)
            }
            throw error
        }
        if confirmingRedirects, read?.record.node != membership.node {
            // Only "this node owns it" is answered from the cache: a redirect or a refusal is
            // read fresh, so nodes never send callers round in circles on stale entries after a
            // move (each misrouted call costs one etcd read; clients cache owners, so few do).
            read = try await placement(of: company, fresh: true)
        }
        guard let read else { return .unplaced }
        if read.record.node == membership.node { return .owner(epoch: read.record.epoch) }
        return .elsewhere(read.record.node, address: try await address(of: read.record.node))
    }

    /// Drops every cached placement (this node's placements may have changed wholesale).
    public func forgetAll() {
        cache.removeAll()
    }

    /// Drops what is cached about `company` (the node drains it for a move, or learns it moved).
    public func forget(_ company: String) {
        cache[company] = nil
    }

    private func placement(of company: String, fresh: Bool = false) async throws -> PlacementStore.Read? {
        let time = now()
        if !fresh, let entry = cache[company], time - entry.at < cacheFor { return entry.read }
        let read = try await placements.owner(of: company)
        if cache.count >= maxCached, let oldest = cache.min(by: { $0.value.at < $1.value.at })?.key { cache[oldest] = nil }
        cache[company] = (read, time)
        return read
    }

    private func address(of node: NodeID) async throws -> String? {
        let time = now()
        if let addresses, time - addresses.at < cacheFor, let known = addresses.nodes[node] { return known }
        let live = try await NodeMembership.liveNodes(etcd: placements.etcd, keys: placements.keys)
        let nodes = Dictionary(live.map { ($0.node, $0.address) }, uniquingKeysWith: { first, _ in first })
        addresses = (nodes, time)
        return nodes[node]
    }
}
