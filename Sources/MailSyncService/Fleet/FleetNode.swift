import Foundation
import Logging
import MailSyncClient
import MailSyncCluster
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData
import Synchronization

/// This server as one node of a fleet coordinated by etcd (``ClusterSettings``).
///
/// - **Control data** (companies, plans, API key hashes) is replicated through etcd: local
///   changes are published (``ControlPublisher``), the fleet's are applied here
///   (``ControlMirror``), so every node authenticates every key.
/// - **Ownership**: a node serves a company only while its placement names the node and the
///   node's lease fence is open (``admit(_:)``); a write commits only if the lease it was admitted
///   under is still surely alive at commit (``mayCommit(under:)``). Calls for a company owned
///   elsewhere get `moved` with the owner's address; clients follow it.
/// - **Placement**: a company is placed on the node that created it; a company whose files are on
///   this node and that has no placement (a single-node data directory joining the fleet) is
///   claimed by this node at start and on first use.
/// - **Membership**: a lease renewed every TTL/3; after a lost lease (the node was cut off or
///   paused past it) the node joins again with a new lease and re-reads every placement.
final class FleetNode: Sendable {
    let settings: ClusterSettings.Resolved
    let etcd: EtcdClient
    let membership: NodeMembership
    let placements: PlacementStore
    let gate: OwnershipGate
    let publisher: ControlPublisher
    let mirror: ControlMirror
    private let control: ControlDatabase
    private let dataDirectory: DataDirectory
    private let logger: Logger
    private let loops = Mutex<[Task<Void, Never>]>([])
    /// Carries out a move request for a company this node owns (set by ``FleetCompanies``).
    private let mover = Mutex<(@Sendable (TenantID, NodeID, PlacementStore.Read) async throws -> Void)?>(nil)
    /// What this node did, for its metrics: companies that arrived, left, and were taken over.
    let counters = Mutex(Counters())

    struct Counters: Sendable, Equatable {
        var arrivals = 0
        var departures = 0
        var takeovers = 0
    }

    func arrived() { counters.withLock { $0.arrivals += 1 } }
    func departed() { counters.withLock { $0.departures += 1 } }

    /// Runs `body` every `interval` until the node stops.
    func repeatedly(every interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                await body()
            }
        }
        loops.withLock { $0.append(task) }
    }

    /// Sets what carries out move requests for this node's companies.
    func onMoveRequest(_ body: @escaping @Sendable (TenantID, NodeID, PlacementStore.Read) async throws -> Void) {
        mover.withLock { $0 = body }
    }

    init(settings: ClusterSettings.Resolved, control: ControlDatabase, dataDirectory: DataDirectory, logger: Logger) {
        self.settings = settings
        self.control = control
        self.dataDirectory = dataDirectory
        self.logger = logger
        // 2 s per member and attempt (not the client's 5 s): a call waits on etcd only for
        // ownership, and a member that hangs must not hold callers longer than the fence would.
        let etcd = EtcdClient(endpoints: settings.endpoints, requestTimeout: .seconds(2))
        self.etcd = etcd
        self.membership = NodeMembership(
            node: settings.node, address: settings.advertise, etcd: etcd, keys: settings.keys, ttl: settings.lease,
            margin: settings.margin, logger: logger)
        self.placements = PlacementStore(etcd: etcd, keys: settings.keys)
        self.gate = OwnershipGate(membership: membership, placements: placements)
        self.publisher = ControlPublisher(control: control, etcd: etcd, keys: settings.keys, node: settings.node, logger: logger)
        self.mirror = ControlMirror(control: control, etcd: etcd, keys: settings.keys, logger: logger)
    }

    var node: NodeID { settings.node }

    /// Joins the fleet: checks this node's secret key against the fleet's, publishes this node's
    /// control rows (every row the first time: the migration of a single-node directory),
    /// applies the fleet's, joins under a lease, claims the local companies nobody owns, and
    /// starts the loops (renewal, rejoin, publish, mirror; each every second).
    ///
    /// - Throws: `SettingsError` for a secret key that is not the fleet's; etcd errors when etcd
    ///   cannot be reached (the node does not start without it).
    func start(secretKeyFingerprint: String) async throws {
        try await checkSecretKey(secretKeyFingerprint)
        let queued = try await control.write { try ControlReplica.startPublishing($0) }
        if queued > 0 { logger.info("cluster: publishing this node's control rows to etcd", metadata: ["rows": "\(queued)"]) }
        try await publisher.flush()
        try await mirror.catchUp()
        try await membership.join()
        try await claimLocalCompanies()
        startLoops()
    }

    /// Stops the loops, publishes what is left (best effort), and leaves: the node's record goes
    /// at once, so others see it gone without waiting for the lease.
    func stop() async {
        let tasks = loops.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        try? await publisher.flush()
        await membership.leave()
    }

    private func checkSecretKey(_ fingerprint: String) async throws {
        let key = settings.keys.secretKeyFingerprint
        let result = try await etcd.transaction(
            [.version(key, equals: 0)], then: [.put(key, Array(fingerprint.utf8))], else: [.get(key)])
        guard !result.succeeded else { return }
        let fleet = result.reads.first?.first.map { String(decoding: $0.value, as: UTF8.self) } ?? ""
        guard fleet == fingerprint else {
            throw SettingsError(
                "this node's secret key (fingerprint \(fingerprint)) is not the fleet's (fingerprint \(fleet.prefix(80))): every node of a fleet must "
                    + "use the same key (MAILSYNC_SECRET_KEY or secret.key), because companies move between nodes with their sealed mailbox secrets")
        }
    }

    /// Places on this node every active company whose database is here and that has no placement.
    private func claimLocalCompanies() async throws {
        let ids = try await control.read(CompanyRecords.activeIDs)
        let placed = try await placements.all()
        var claimed = 0
        for id in ids where placed[id] == nil {
            guard let tenant = TenantID(validating: id), hasLocalFiles(tenant) else { continue }
            if try await placements.place(id, on: node).record.node == node { claimed += 1 }
        }
        if claimed > 0 { logger.info("cluster: claimed this node's companies", metadata: ["companies": "\(claimed)"]) }
    }

    private func hasLocalFiles(_ tenant: TenantID) -> Bool {
        FileManager.default.fileExists(atPath: dataDirectory.tenantDatabasePath(tenant))
    }

    /// Where a new company goes (``ClusterSettings/placeNewCompanies``): returns when it is this
    /// node; throws `moved` naming the least-loaded live node when this node is more loaded than
    /// it (by mailboxes reported, then companies placed; a tie stays here, so two nodes never
    /// send a create back and forth on the same view).
    ///
    /// - Throws: `unavailable` when etcd cannot be read.
    func admitNewCompany() async throws {
        guard settings.placeOnLeastLoaded else { return }
        let live: [NodeRecord]
        let placed: [String: PlacementStore.Read]
        do {
            live = try await NodeMembership.liveNodes(etcd: etcd, keys: settings.keys)
            placed = try await placements.all()
        } catch {
            throw RPCError(.unavailable, "node \(node) cannot read the fleet's load from etcd (\(error)); retry shortly")
        }
        var companies: [NodeID: Int] = [:]
        for read in placed.values { companies[read.record.node, default: 0] += 1 }
        let loads = live.map { PlacementPolicy.Load(node: $0.node, mailboxes: $0.mailboxes, companies: companies[$0.node] ?? 0) }
        guard let target = PlacementPolicy.leastLoaded(loads), target != node,
            let theirs = loads.first(where: { $0.node == target }), let address = live.first(where: { $0.node == target })?.address
        else { return }
        let mine = loads.first { $0.node == node } ?? PlacementPolicy.Load(node: node, mailboxes: Int.max, companies: Int.max)
        guard (mine.mailboxes, mine.companies) > (theirs.mailboxes, theirs.companies) else { return }
        throw RPCError(
            .moved, "new companies go to the least-loaded node of the fleet: \(target) at \(address); call again there (Mail Sync's clients do this by themselves)",
            trailers: [Metadata.ownerAddressKey: address])
    }

    /// Places a company this node just created on itself. Throws when etcd cannot be reached or
    /// another node holds the placement (it cannot: the id is new).
    func placeNew(_ tenant: TenantID) async throws {
        let read = try await placements.place(tenant.description, on: node)
        guard read.record.node == node else {
            throw RPCError(.internal, "the new company \(tenant) was placed on node \(read.record.node) by someone else")
        }
        await gate.forget(tenant.description)
    }

    /// What ``admit(_:)`` found: the lease the check was made under (pass it to
    /// ``mayCommit(under:)`` before committing a write) and the placement's epoch.
    struct Admission: Sendable, Equatable {
        var lease: Int64
        var epoch: Int64
    }

    /// Checks that this node serves `tenant` now.
    ///
    /// - Throws: `RPCError(.moved)` with the owner's address and the company in the trailers;
    ///   `unavailable` when the owner is not live (its companies are being taken over), when this
    ///   node's fence is closed, or when etcd cannot be read; `not found` for a company that no
    ///   node owns and whose files are not here.
    func admit(_ tenant: TenantID, confirmingRedirects: Bool = true) async throws -> Admission {
        let company = tenant.description
        for _ in 0..<2 {
            let verdict: OwnershipGate.Verdict
            do {
                verdict = try await gate.verdict(for: company, confirmingRedirects: confirmingRedirects)
            } catch {
                throw RPCError(.unavailable, "node \(node) cannot read company \(company)'s placement from etcd (\(error)); retry shortly")
            }
            switch verdict {
            case .owner(let epoch):
                guard let lease = membership.fence.leaseID else { break }
                return Admission(lease: lease, epoch: epoch)
            case .elsewhere(let owner, let address?):
                throw RPCError(
                    .moved, "company \(company) is served by node \(owner) at \(address); call again there (Mail Sync's clients do this by themselves)",
                    trailers: [Metadata.ownerAddressKey: address, Metadata.ownerCompanyKey: company])
            case .elsewhere(let owner, nil):
                throw RPCError(
                    .unavailable, "company \(company)'s node \(owner) is not live; the fleet gives its companies to other nodes when its lease ends (\(settings.lease)); retry shortly")
            case .fenced:
                throw RPCError(
                    .unavailable, "node \(node) lost its lease in etcd and serves no company until it has joined the fleet again; retry shortly (or call another node)")
            case .unplaced:
                guard hasLocalFiles(tenant) else { throw RPCError(.notFound, "no company '\(company)'") }
                do {
                    _ = try await placements.place(company, on: node)
                } catch {
                    throw RPCError(.unavailable, "node \(node) cannot place company \(company) in etcd (\(error)); retry shortly")
                }
                await gate.forget(company)
            }
        }
        throw RPCError(.unavailable, "company \(company)'s placement changed while node \(node) read it; retry")
    }

    /// Whether a write admitted under `lease` may commit now.
    func mayCommit(under lease: Int64) -> Bool {
        membership.mayWrite(under: lease)
    }


    /// Carries out the move requests for companies this node owns, one at a time.
    private func carryOutMoves() async {
        guard membership.mayWrite, let mover = mover.withLock({ $0 }) else { return }
        guard let requests = try? await etcd.list(prefix: settings.keys.moves) else { return }
        for kv in requests {
            let company = String(kv.key.dropFirst(settings.keys.moves.count))
            guard let tenant = TenantID(validating: company), let request = try? ClusterJSON.decode(MoveRequest.self, kv), request.error == nil,
                let read = try? await placements.owner(of: company), read.record.node == node
            else { continue }
            do {
                if request.to != node {
                    let live = try await NodeMembership.liveNodes(etcd: etcd, keys: settings.keys)
                    guard live.contains(where: { $0.node == request.to }) else {
                        throw RPCError(.failedPrecondition, "node \(request.to) is not live")
                    }
                    try await mover(tenant, request.to, read)
                }
                _ = try await etcd.transaction([.modRevision(kv.key, equals: kv.modRevision)], then: [.delete(kv.key)])
            } catch {
                logger.warning("cluster: a move request failed", metadata: ["company": "\(company)", "to": "\(request.to)", "error": "\(error)"])
                var failed = request
                failed.error = "\(error)"
                if let bytes = try? ClusterJSON.encode(failed) {
                    _ = try? await etcd.transaction([.modRevision(kv.key, equals: kv.modRevision)], then: [.put(kv.key, bytes)])
                }
            }
        }
    }

    private func startLoops() {
        let membership = self.membership, gate = self.gate, publisher = self.publisher, mirror = self.mirror, logger = self.logger
        let rejoin = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard membership.fence.leaseID == nil, !Task.isCancelled else { continue }
                do {
                    try await membership.join()
                    await gate.forgetAll()
                    logger.notice("cluster: joined the fleet again after losing the lease; placements are read anew")
                } catch {
                    logger.warning("cluster: cannot join the fleet again yet", metadata: ["error": "\(error)"])
                }
            }
        }
        let publish = Task {
            var failing = false
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                do {
                    try await publisher.flush()
                    if failing { logger.notice("cluster: control changes published again") }
                    failing = false
                } catch {
                    if !failing { logger.warning("cluster: cannot publish control changes to etcd; retried every second", metadata: ["error": "\(error)"]) }
                    failing = true
                }
            }
        }
        let apply = Task {
            var failing = false
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                do {
                    try await mirror.catchUp()
                    if failing { logger.notice("cluster: the fleet's control changes apply again") }
                    failing = false
                } catch {
                    if !failing { logger.warning("cluster: cannot apply the fleet's control changes; retried every second", metadata: ["error": "\(error)"]) }
                    failing = true
                }
            }
        }
        let takeover = Task { [weak self] in
            // A pass reads every placement: it runs when the set of live nodes changed (a node
            // left or came), and every 30 s besides (a pass that failed, a record missed).
            var lastLive: Set<NodeID>?
            var lastPass = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let self, !Task.isCancelled, self.membership.mayWrite else { continue }
                guard let live = try? await NodeMembership.liveNodes(etcd: self.etcd, keys: self.settings.keys) else { continue }
                let ids = Set(live.map(\.node))
                guard ids != lastLive || ContinuousClock.now - lastPass >= .seconds(30) else { continue }
                lastPass = .now
                do {
                    let outcome = try await Takeover(placements: self.placements).run()
                    lastLive = ids
                    if !outcome.moved.isEmpty {
                        self.counters.withLock { $0.takeovers += outcome.moved.count }
                        self.logger.notice("cluster: took over the companies of nodes that are gone", metadata: [
                            "moved": "\(outcome.moved.map { "\($0.key)→\($0.value)" }.sorted().joined(separator: ", "))"])
                    }
                } catch {
                    self.logger.warning("cluster: takeover pass failed; retried", metadata: ["error": "\(error)"])
                }
            }
        }
        let moves = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                guard let self, !Task.isCancelled else { continue }
                await self.carryOutMoves()
            }
        }
        loops.withLock { $0 += [rejoin, publish, apply, takeover, moves] }
    }
}
