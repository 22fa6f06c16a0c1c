import ArgumentParser
import Foundation
import MailSyncCluster

/// `mailsync cluster`: the fleet as etcd records it (docs/cluster.md). Reads etcd only; needs no
/// running Mail Sync node.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "The fleet as etcd records it: live nodes, companies per node, companies waiting for a takeover; moves.",
        subcommands: [Status.self, Move.self, Rebalance.self])

    static func client(_ etcd: String) throws -> EtcdClient {
        let endpoints = try etcd.split(separator: ",").map { try EtcdEndpoint(parsing: String($0)) }
        guard !endpoints.isEmpty else { throw EtcdError.badEndpoint(etcd, reason: "no endpoint given") }
        return EtcdClient(endpoints: endpoints, requestTimeout: .seconds(5))
    }

    /// Asks the company's owner to move it to `node` and waits until the placement names `node`
    /// (or the owner reports why not). Returns what happened, in words.
    static func move(_ company: String, to node: NodeID, client: EtcdClient, keys: ClusterKeys, timeout: Int) async throws -> String {
        guard UUID(uuidString: company) != nil else { throw ValidationError("\(company) is not a company id") }
        let placements = PlacementStore(etcd: client, keys: keys)
        guard let before = try await placements.owner(of: company) else {
            throw ValidationError("company \(company) has no placement: no node serves it")
        }
        if before.record.node == node { return "company \(company) is already on \(node)" }
        guard try await NodeMembership.liveNodes(etcd: client, keys: keys).contains(where: { $0.node == node }) else {
            throw ValidationError("node \(node) is not live (mailsync cluster status lists the live nodes)")
        }
        let id = UUID().uuidString
        let request = try ClusterJSON.encode(MoveRequest(to: node, id: id))
        let created = try await client.transaction([.version(keys.move(company), equals: 0)], then: [.put(keys.move(company), request)])
        guard created.succeeded else {
            throw ValidationError("company \(company) has a move request already (etcdctl del \(keys.move(company)) to drop it)")
        }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(timeout) {
            if let now = try await placements.owner(of: company), now.record.node == node {
                return "company \(company) moved from \(before.record.node) to \(node) (epoch \(now.record.epoch)) in \(ContinuousClock.now - started)"
            }
            if let kv = try await client.get(keys.move(company)), let pending = try? ClusterJSON.decode(MoveRequest.self, kv),
                pending.id == id, let error = pending.error {
                _ = try? await client.transaction([.modRevision(kv.key, equals: kv.modRevision)], then: [.delete(kv.key)])
                throw ValidationError("node \(before.record.node) did not move company \(company): \(error)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ValidationError("company \(company) did not move within \(timeout) s; its request stays in etcd at \(keys.move(company))")
    }

    /// `mailsync cluster rebalance`: evens out companies per live node, one move at a time.
    struct Rebalance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebalance",
            abstract: "Even out the companies per live node: moves from the fullest to the emptiest, one at a time.",
            discussion: """
                Plans moves until no live node holds two companies more than another (companies of nodes \
                that are not live are left to the takeover), prints the plan, and with --apply carries it out \
                as `mailsync cluster move` does, stopping at the first move that fails.
                """)

        @Option(help: "etcd client endpoints, comma-separated (http://HOST:PORT,…).")
        var etcd: String

        @Option(help: "The fleet's key prefix in etcd.")
        var prefix: String = "/mailsync/"

        @Flag(help: "Carry the plan out (default: print it only).")
        var apply = false

        func run() async throws {
            do {
                let client = try ClusterCommand.client(etcd)
                let keys = ClusterKeys(prefix: prefix)
                let live = try await NodeMembership.liveNodes(etcd: client, keys: keys).map(\.node)
                let placements = try await PlacementStore(etcd: client, keys: keys).all().mapValues(\.record.node)
                let plan = PlacementPolicy.rebalance(placements, live: live)
                if plan.isEmpty {
                    print("balanced: \(placements.count) companies on \(live.count) live node(s); nothing to move")
                    return
                }
                for move in plan { print("\(move.company): \(move.from) -> \(move.to)") }
                guard apply else {
                    print("\(plan.count) move(s) planned; run again with --apply to carry them out")
                    return
                }
                for move in plan {
                    print(try await ClusterCommand.move(move.company, to: move.to, client: client, keys: keys, timeout: 60))
                }
            } catch {
                FileHandle.standardError.write(Data("mailsync cluster rebalance: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// `mailsync cluster move COMPANY --to NODE`: asks the company's owner to move it, and waits.
    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move",
            abstract: "Move a company to another node: its owner drains it, ships its last writes, and hands it over.",
            discussion: """
                Writes a move request to etcd and waits until the placement names the new node (or the owner \
                reports why it cannot). The new node restores the company from the remoteBackup bucket on its \
                first call; callers of the old node are redirected. Exit 0 when moved, 1 with the reason otherwise.
                """)

        @Argument(help: "The company's id.")
        var company: String

        @Option(help: "The node to move it to.")
        var to: String

        @Option(help: "etcd client endpoints, comma-separated (http://HOST:PORT,…).")
        var etcd: String

        @Option(help: "The fleet's key prefix in etcd.")
        var prefix: String = "/mailsync/"

        @Option(help: "Seconds to wait for the move (default 60).")
        var timeout: Int = 60

        func run() async throws {
            do {
                guard let node = NodeID(to) else { throw ValidationError("--to must be a node id (a-z, 0-9, '-')") }
                print(try await ClusterCommand.move(company, to: node, client: try ClusterCommand.client(etcd), keys: ClusterKeys(prefix: prefix), timeout: timeout))
            } catch {
                FileHandle.standardError.write(Data("mailsync cluster move: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Live nodes (address, companies, mailboxes) and companies whose owner is not live.")

        @Option(help: "etcd client endpoints, comma-separated (http://HOST:PORT,…).")
        var etcd: String

        @Option(help: "The fleet's key prefix in etcd.")
        var prefix: String = "/mailsync/"

        func run() async throws {
            do {
                let client = try ClusterCommand.client(etcd)
                print(try await ClusterStatus.read(from: client, keys: ClusterKeys(prefix: prefix)).text())
            } catch {
                FileHandle.standardError.write(Data("mailsync cluster status: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
