import ArgumentParser
import Foundation
import MailSyncCluster

/// `mailsync cluster`: the fleet as etcd records it (docs/cluster.md). Reads etcd only; needs no
/// running Mail Sync node.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "The fleet as etcd records it: live nodes, companies per node, companies waiting for a takeover.",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Live nodes (address, companies, mailboxes) and companies whose owner is not live.")

        @Option(help: "etcd client endpoints, comma-separated (http://HOST:PORT,…).")
        var etcd: String

        @Option(help: "The fleet's key prefix in etcd.")
        var prefix: String = "/mailsync/"

        func run() async throws {
            do {
                let endpoints = try etcd.split(separator: ",").map { try EtcdEndpoint(parsing: String($0)) }
                guard !endpoints.isEmpty else { throw EtcdError.badEndpoint(etcd, reason: "no endpoint given") }
                let client = EtcdClient(endpoints: endpoints, requestTimeout: .seconds(5))
                print(try await ClusterStatus.read(from: client, keys: ClusterKeys(prefix: prefix)).text())
            } catch {
                FileHandle.standardError.write(Data("mailsync cluster status: \(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
