/// Reads and changes which node owns each company, in etcd, with compare-and-swap on the
/// placement's revision so two nodes (or an operator's move and a failover) can never both win.
public struct PlacementStore: Sendable {
    public let etcd: EtcdClient
    public let keys: ClusterKeys

    public init(etcd: EtcdClient, keys: ClusterKeys = ClusterKeys()) {
        self.etcd = etcd
        self.keys = keys
    }

    /// A placement as read, with the revision a change must compare against.
    public struct Read: Sendable, Equatable {
        public var record: PlacementRecord
        public var modRevision: Int64
    }

    /// The company's placement, or nil when it has none.
    public func owner(of company: String) async throws -> Read? {
        guard let kv = try await etcd.get(keys.placement(company)) else { return nil }
        return Read(record: try ClusterJSON.decode(PlacementRecord.self, kv), modRevision: kv.modRevision)
    }

    /// Every placement, by company id.
    public func all() async throws -> [String: Read] {
        var result: [String: Read] = [:]
        for kv in try await etcd.list(prefix: keys.placements) {
            let company = String(kv.key.dropFirst(keys.placements.count))
            result[company] = Read(record: try ClusterJSON.decode(PlacementRecord.self, kv), modRevision: kv.modRevision)
        }
        return result
    }

    /// Places a company that has no placement yet on `node` (epoch 1). Returns the placement that
    /// holds afterwards: this one, or the one another node made first.
    public func place(_ company: String, on node: NodeID) async throws -> Read {
        let key = keys.placement(company)
        let record = PlacementRecord(node: node, epoch: 1)
        let result = try await etcd.transaction(
            [.version(key, equals: 0)], then: [.put(key, try ClusterJSON.encode(record))], else: [.get(key)])
        if result.succeeded { return Read(record: record, modRevision: result.revision) }
        guard let kv = result.reads.first?.first else { throw EtcdError.badReply("the placement of \(company) vanished during its creation") }
        return Read(record: try ClusterJSON.decode(PlacementRecord.self, kv), modRevision: kv.modRevision)
    }

    /// Gives the company to `node` if its placement is still `expected` (the caller's read):
    /// epoch + 1. Returns the new placement, or nil when the placement changed meanwhile (the
    /// caller reads again and decides again).
    public func move(_ company: String, from expected: Read, to node: NodeID) async throws -> Read? {
        let key = keys.placement(company)
        let (epoch, overflow) = expected.record.epoch.addingReportingOverflow(1)
        guard !overflow else { throw EtcdError.badReply("the placement epoch of \(company) cannot grow further") }
        let record = PlacementRecord(node: node, epoch: epoch)
        let result = try await etcd.transaction(
            [.modRevision(key, equals: expected.modRevision)], then: [.put(key, try ClusterJSON.encode(record))])
        return result.succeeded ? Read(record: record, modRevision: result.revision) : nil
    }

    /// Removes the company's placement if it is still `expected` (the company was deleted).
    public func remove(_ company: String, expected: Read) async throws -> Bool {
        let key = keys.placement(company)
        return try await etcd.transaction([.modRevision(key, equals: expected.modRevision)], then: [.delete(key)]).succeeded
    }
}
