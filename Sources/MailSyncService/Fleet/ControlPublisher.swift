import Logging
import MailSyncCluster
import MailSyncStorage
import MailSyncTenantData

/// Publishes this node's control changes (the outbox, ``ControlReplica``) to etcd, oldest first,
/// up to 64 rows per etcd transaction; an entry leaves the outbox only after etcd took it.
///
/// Handlers that change control data call ``flush()`` before they answer, so a key made on one
/// node is in etcd when its caller gets it; a loop also flushes every second, so what a failed
/// flush left (etcd unreachable) goes out once etcd answers. Flushes run one at a time.
actor ControlPublisher {
    private let control: ControlDatabase
    private let etcd: EtcdClient
    private let keys: ClusterKeys
    private let node: NodeID
    private let logger: Logger
    private var running: Task<Int, any Error>?
    /// Rows per etcd transaction (etcd's default limit is 128 operations).
    static let batch = 64

    init(control: ControlDatabase, etcd: EtcdClient, keys: ClusterKeys, node: NodeID, logger: Logger) {
        self.control = control
        self.etcd = etcd
        self.keys = keys
        self.node = node
        self.logger = logger
    }

    /// Publishes everything in the outbox now (waits for a flush already under way first).
    /// Returns the rows published. Throws when etcd cannot be reached; what was not published
    /// stays in the outbox.
    @discardableResult
    func flush() async throws -> Int {
        while let running { _ = try? await running.value; if self.running == running { self.running = nil } }
        let task = Task { try await self.publishAll() }
        running = task
        defer { if running == task { running = nil } }
        return try await task.value
    }

    private func publishAll() async throws -> Int {
        var published = 0
        while true {
            let batch = try await control.read { try ControlReplica.pending($0, limit: Self.batch) }
            guard let last = batch.last else { return published }
            let operations = try batch.map { entry in
                EtcdOperation.put(keys.control(table: entry.table.rawValue, key: entry.key), try ReplicatedRow.encode(entry.row, node: node))
            }
            _ = try await etcd.transaction([], then: operations)
            try await control.write { try ControlReplica.acknowledge($0, upTo: last.seq) }
            published += batch.count
        }
    }
}
