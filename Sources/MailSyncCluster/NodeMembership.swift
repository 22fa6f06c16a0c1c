import Logging
import Synchronization

/// This node's membership of the fleet: a lease in etcd kept alive, the node's record attached to
/// it, and the ``LeaseFence`` that says whether the node may still act as an owner.
///
/// ``join()`` grants a lease of `ttl` (default 10 s) and writes the node's record under it; a loop
/// then renews it every `ttl / 3`. A renewal that fails is retried at the next tick while the
/// fence is open; when etcd says the lease is gone (it expired while this node was cut off or
/// paused), the fence closes and stays closed: the node's companies may already be someone
/// else's, so it must not write for them again before it has joined anew and re-read its
/// placements. ``leave()`` revokes the lease (the record goes at once).
///
/// The clock is injected (`now`) so tests can drive the fence; renewals use the real one.
public actor NodeMembership {
    public nonisolated let node: NodeID
    public nonisolated let ttl: Duration
    private let etcd: EtcdClient
    private let keys: ClusterKeys
    private let logger: Logger
    private let now: @Sendable () -> ContinuousClock.Instant
    private var record: NodeRecord
    /// The fence, under a lock so writers can check it without a hop to this actor.
    private nonisolated let fenceBox: Mutex<LeaseFence>
    /// The fence as it is now.
    public nonisolated var fence: LeaseFence { fenceBox.withLock { $0 } }
    private var renewals: Task<Void, Never>?
    /// Renewals that failed in a row (reset by one that succeeds).
    public private(set) var failedRenewals = 0

    public init(
        node: NodeID, address: String, etcd: EtcdClient, keys: ClusterKeys = ClusterKeys(), ttl: Duration = .seconds(10),
        margin: Duration = .seconds(2), logger: Logger, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.node = node
        self.ttl = ttl
        self.etcd = etcd
        self.keys = keys
        self.logger = logger
        self.now = now
        self.record = NodeRecord(node: node, address: address)
        self.fenceBox = Mutex(LeaseFence(margin: margin))
    }

    /// Whether this node may write as an owner now (its lease is surely alive).
    public nonisolated var mayWrite: Bool { fence.isOpen(at: now()) }

    /// Whether this node may still write under `lease`: the fence is open and the lease held is
    /// that one (a node that lost its lease and joined again must check ownership anew; what it
    /// admitted under the old lease may not commit). Checked by writers just before they commit.
    public nonisolated func mayWrite(under lease: Int64) -> Bool {
        let fence = self.fence
        return fence.leaseID == lease && fence.isOpen(at: now())
    }

    /// Joins (or joins again after a lost lease): a new lease, the record under it, renewals.
    /// Throws when etcd cannot be reached or the record cannot be written.
    public func join() async throws {
        renewals?.cancel()
        let sent = now()
        let lease = try await etcd.grantLease(ttlSeconds: max(1, Int64(ttl.components.seconds)))
        do {
            try await etcd.put(keys.node(node.rawValue), try ClusterJSON.encode(record), lease: lease.id)
        } catch {
            try? await etcd.revokeLease(lease.id)
            throw error
        }
        fenceBox.withLock { $0.granted(lease, sent: sent) }
        failedRenewals = 0
        logger.info("cluster: joined", metadata: ["node": "\(node)", "lease": "\(lease.id)", "ttl": "\(lease.ttlSeconds)s"])
        let interval = ttl / 3
        renewals = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                if await self.renewOnce() == false { return }
            }
        }
    }

    /// Publishes a new mailbox count and shipping lag in the record (placement and
    /// `mailsync cluster status` read them).
    public func report(mailboxes: Int, shippingLagSeconds: Double? = nil) async throws {
        record.mailboxes = mailboxes
        record.shippingLagSeconds = shippingLagSeconds
        guard let lease = fence.leaseID, mayWrite else { throw EtcdError.leaseLost(fence.leaseID ?? 0) }
        try await etcd.put(keys.node(node.rawValue), try ClusterJSON.encode(record), lease: lease)
    }

    /// One renewal. Returns false when the lease is gone (renewals stop).
    @discardableResult
    public func renewOnce() async -> Bool {
        guard let id = fence.leaseID else { return false }
        let sent = now()
        do {
            let lease = try await etcd.keepAlive(id)
            fenceBox.withLock { $0.renewed(lease, sent: sent) }
            failedRenewals = 0
            return true
        } catch EtcdError.leaseLost {
            fenceBox.withLock { $0.lost() }
            logger.error("cluster: this node's lease expired; it no longer owns anything until it joins again", metadata: ["node": "\(node)", "lease": "\(id)"])
            return false
        } catch {
            failedRenewals += 1
            logger.warning("cluster: lease renewal failed; retried", metadata: [
                "node": "\(node)", "error": "\(error)", "fence": "\(fence.remaining(at: now()))"])
            return true
        }
    }

    func renewalsCancel() {
        renewals?.cancel()
        renewals = nil
    }

    /// Stops renewing and revokes the lease: the node's record goes at once.
    public func leave() async {
        renewals?.cancel()
        renewals = nil
        if let id = fence.leaseID { try? await etcd.revokeLease(id) }
        fenceBox.withLock { $0.lost() }
    }

    /// The live nodes' records, by node.
    public static func liveNodes(etcd: EtcdClient, keys: ClusterKeys = ClusterKeys()) async throws -> [NodeRecord] {
        try await etcd.list(prefix: keys.nodes).map { try ClusterJSON.decode(NodeRecord.self, $0) }
    }
}

extension NodeMembership {
    /// Stops renewing without revoking: what a crashed node leaves behind (its record stays until
    /// etcd lets the lease expire). For tests and for a process that knows it is going down hard.
    public func abandon() {
        renewalsCancel()
    }
}
