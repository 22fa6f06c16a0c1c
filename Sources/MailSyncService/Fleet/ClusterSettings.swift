public import MailSyncCluster

/// Running as one node of a fleet (`"cluster": {…}` in the config, or `serve --cluster-etcd …`).
///
/// ```json
/// "cluster": { "etcd": ["http://10.0.0.5:2379", "http://10.0.0.6:2379", "http://10.0.0.7:2379"],
///              "node": "node-a", "advertise": "10.0.1.21:7420",
///              "prefix": "/mailsync/", "leaseSeconds": 10, "fenceMarginSeconds": 2 }
/// ```
/// Absent: a single node with its own control database (today's default). Every node of a fleet
/// must use the same secret key (`MAILSYNC_SECRET_KEY`): companies move between nodes with their
/// sealed secrets, and a node whose key differs from the fleet's is refused at start.
public struct ClusterSettings: Codable, Sendable, Equatable {
    /// etcd members' client URLs, `http://HOST:PORT` (at least one; all of them is best).
    public var etcd: [String]?
    /// This node's id: 1–63 of `a-z 0-9 -`, unique in the fleet.
    public var node: String?
    /// Where callers reach this node's RPC port, `host:port`; sent in redirects. Default: the
    /// listen address (which must then not be a wildcard).
    public var advertise: String?
    /// The etcd key prefix of this fleet. Default `/mailsync/`.
    public var prefix: String?
    /// The membership lease's TTL. Default 10 s (3–300).
    public var leaseSeconds: Int?
    /// How long before the lease can have expired the node stops writing. Default 2 s (at least 1,
    /// less than a third of the lease).
    public var fenceMarginSeconds: Int?
    /// Where a new company goes: `leastLoaded` (default: the live node with the fewest mailboxes,
    /// then companies; a node that is not it answers `CreateCompany` with `moved` naming it, and
    /// clients follow) or `creatingNode` (the node that received the call).
    public var placeNewCompanies: String?

    public init(
        etcd: [String]? = nil, node: String? = nil, advertise: String? = nil, prefix: String? = nil,
        leaseSeconds: Int? = nil, fenceMarginSeconds: Int? = nil, placeNewCompanies: String? = nil
    ) {
        self.placeNewCompanies = placeNewCompanies
        self.etcd = etcd
        self.node = node
        self.advertise = advertise
        self.prefix = prefix
        self.leaseSeconds = leaseSeconds
        self.fenceMarginSeconds = fenceMarginSeconds
    }

    /// The settings checked, with defaults filled in.
    public struct Resolved: Sendable {
        package var endpoints: [EtcdEndpoint]
        package var node: NodeID
        package var advertise: String
        package var keys: ClusterKeys
        package var lease: Duration
        package var margin: Duration
        /// New companies go to the least-loaded node (else: where they are created).
        package var placeOnLeastLoaded: Bool
    }

    /// - Throws: `SettingsError` naming the field and what it must be.
    package func resolve(listen: String) throws -> Resolved {
        guard let etcd, !etcd.isEmpty else { throw SettingsError("cluster.etcd must list at least one etcd member (http://HOST:PORT)") }
        guard etcd.count <= 16 else { throw SettingsError("cluster.etcd lists \(etcd.count) members; at most 16") }
        let endpoints = try etcd.map { text in
            do { return try EtcdEndpoint(parsing: text) } catch { throw SettingsError("cluster.etcd: \(error)") }
        }
        guard let nodeText = node, let node = NodeID(nodeText) else {
            throw SettingsError("cluster.node must be 1-63 of a-z, 0-9 and '-', not starting with '-'; got '\((node ?? "").prefix(70))'")
        }
        let address = advertise ?? listen
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port),
            colon != address.startIndex
        else { throw SettingsError("cluster.advertise must be host:port; got '\(address.prefix(100))'") }
        let host = address[..<colon]
        guard !["0.0.0.0", "[::]", "::", ""].contains(host) else {
            throw SettingsError("cluster.advertise must be an address callers can reach; the listen address \(address) is a wildcard, so set cluster.advertise")
        }
        guard address.utf8.count <= 260, address.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else {
            throw SettingsError("cluster.advertise must be host:port of letters, digits, '.', '-', ':' and brackets")
        }
        let prefix = self.prefix ?? "/mailsync/"
        guard prefix.hasPrefix("/"), prefix.utf8.count <= 100, prefix.allSatisfy({ $0.isLetter || $0.isNumber || "/-_".contains($0) }) else {
            throw SettingsError("cluster.prefix must start with '/' and hold letters, digits, '/', '-' and '_' (at most 100)")
        }
        let lease = leaseSeconds ?? 10
        guard (3...300).contains(lease) else { throw SettingsError("cluster.leaseSeconds must be 3...300, got \(lease)") }
        let margin = fenceMarginSeconds ?? 2
        guard margin >= 1, margin * 3 < lease else {
            throw SettingsError("cluster.fenceMarginSeconds must be at least 1 and less than a third of leaseSeconds (\(lease)), got \(margin)")
        }
        let placement = placeNewCompanies ?? "leastLoaded"
        guard ["leastLoaded", "creatingNode"].contains(placement) else {
            throw SettingsError("cluster.placeNewCompanies must be leastLoaded or creatingNode, got '\(placement.prefix(40))'")
        }
        return Resolved(
            endpoints: endpoints, node: node, advertise: address, keys: ClusterKeys(prefix: prefix),
            lease: .seconds(lease), margin: .seconds(margin), placeOnLeastLoaded: placement == "leastLoaded")
    }
}
