/// Where Mail Sync keeps its records in etcd, all under one prefix (default `/mailsync/`), so
/// one etcd cluster can hold several fleets apart.
///
/// - `<prefix>nodes/<node>`: a live node's record (``NodeRecord``), attached to its lease: it
///   disappears when the node stops renewing.
/// - `<prefix>placement/<company>`: which node owns a company, and the placement's epoch
///   (``PlacementRecord``).
/// - `<prefix>control/<table>/<key>`: one row of the fleet's replicated control data
///   (companies, plans, API key hashes), published by the node that changed it.
/// - `<prefix>moves/<company>`: an operator's request to move a company (``MoveRequest``); the
///   owner carries it out and deletes it, or writes its error into it.
/// - `<prefix>fleet/secret-key`: the fingerprint of the secret key every node must share.
public struct ClusterKeys: Sendable, Equatable {
    public let prefix: String

    public init(prefix: String = "/mailsync/") {
        self.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    public var nodes: String { prefix + "nodes/" }
    public func node(_ id: String) -> String { nodes + id }
    public var placements: String { prefix + "placement/" }
    public func placement(_ company: String) -> String { placements + company }
    public var moves: String { prefix + "moves/" }
    public func move(_ company: String) -> String { moves + company }
    public var control: String { prefix + "control/" }
    public func control(table: String, key: String) -> String { control + table + "/" + key }
    public var secretKeyFingerprint: String { prefix + "fleet/secret-key" }
}
