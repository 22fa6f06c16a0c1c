import MailSyncRPC

/// What a `moved` status says: where the company's owner is, and which company.
struct Redirect: Sendable, Hashable {
    /// The owner's address, from ``Metadata/ownerAddressKey``.
    let owner: NodeAddress
    /// The company, from ``Metadata/ownerCompanyKey``; nil when absent, empty or over 128 bytes
    /// (the redirect is still followed, but not cached).
    let company: String?

    init(owner: NodeAddress, company: String?) {
        self.owner = owner
        self.company = company
    }

    /// Reads a `moved` error's trailers.
    ///
    /// - Parameter node: the node that answered, for the message.
    /// - Throws: `RPCError(.internal)` naming the trailer when the owner address is missing, empty
    ///   or not `host:port` (``NodeAddress``); such a redirect is never followed, so nothing is
    ///   connected to. The error keeps the original trailers.
    init(_ moved: RPCError, from node: NodeAddress, method: MethodDescriptor) throws(RPCError) {
        precondition(moved.code == .moved)
        let key = Metadata.ownerAddressKey
        guard let value = moved.trailers[key], !value.isEmpty else {
            throw RPCError(
                .internal,
                "\(node) answered \(method) with moved but no owner address ('\(key)' trailer); the redirect was not followed (\(moved.message))",
                trailers: moved.trailers)
        }
        do {
            owner = try NodeAddress(parsing: value)
        } catch {
            throw RPCError(
                .internal,
                "\(node) answered \(method) with moved to the owner address '\(Self.shown(value))' ('\(key)' trailer), which is not host:port: \(error); the redirect was not followed",
                trailers: moved.trailers)
        }
        let company = moved.trailers[Metadata.ownerCompanyKey] ?? ""
        self.company = company.isEmpty || company.utf8.count > 128 ? nil : company
    }

    /// At most 100 characters of a value from the network, for a message.
    static func shown(_ value: String) -> String {
        value.count <= 100 ? value : String(value.prefix(100)) + "…"
    }
}

/// The nodes one call went through, to bound its redirects and name a loop.
struct RedirectPath: Sendable {
    /// Most redirects followed for one call.
    let maxHops: Int
    private(set) var nodes: [NodeAddress]
    private(set) var hops = 0

    init(start: NodeAddress, maxHops: Int) {
        self.maxHops = maxHops
        self.nodes = [start]
    }

    /// Records a redirect to `owner`.
    ///
    /// - Throws: `RPCError(.unavailable)` naming every node visited when `maxHops` redirects were
    ///   followed already (the fleet's placements disagree, or change faster than the call moves).
    mutating func follow(to owner: NodeAddress, company: String?, method: MethodDescriptor) throws(RPCError) {
        guard hops < maxHops else {
            let route = (nodes + [owner]).map(\.description).joined(separator: " → ")
            let what = company.map { "company '\(Self.shown($0))'" } ?? "the company"
            throw RPCError(
                .unavailable,
                "\(method) was redirected \(hops) times without reaching the owner of \(what) (\(route)): the fleet's placements disagree (a redirect loop); try again once the move has settled")
        }
        hops += 1
        nodes.append(owner)
    }

    /// Records a retry through the seed after a cached owner could not be reached (not a hop).
    mutating func restart(at node: NodeAddress) {
        nodes.append(node)
    }

    private static func shown(_ value: String) -> String { Redirect.shown(value) }
}
