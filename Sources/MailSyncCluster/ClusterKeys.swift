/// Where Mail Sync keeps its records in etcd, all under one prefix (default `/mailsync/`), so
/// one etcd cluster can hold several fleets apart.
///
/// - `<prefix>nodes/<node>`: a live node's record (``NodeRecord``), attached to its lease: it
///   disappears when the node stops renewing.
/// - `<prefix>placement/<company>`: which node owns a company, and the placement's epoch
///   (``PlacementRecord``).
public struct ClusterKeys: Sendable, Equatable {
    public let prefix: String

    public init(prefix: String = "/mailsync/") {
        self.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    public var nodes: String { prefix + "nodes/" }
    public func node(_ id: String) -> String { nodes + id }
    public var placements: String { prefix + "placement/" }
    public func placement(_ company: String) -> String { placements + company }
}
