import Logging
import MailSyncCluster
import MailSyncStorage
import MailSyncTenantData

/// Applies the control rows other nodes published to this node's control database, so every
/// node authenticates every company's keys and reads every company's plan and limits locally.
///
/// ``catchUp()`` reads the records written since the revision applied last (paged, at most 1,000
/// per read, all at one revision) and applies them in one transaction per page: plans, then
/// companies, then keys. A loop catches up every second; an unknown API key makes the
/// authenticator call ``catchUpOnMiss()`` (at most one read per 250 ms however many misses), so
/// a key made on another node works here at once. A record that does not decode stops the
/// catch-up with an error naming it (logged by the loop, which retries): applying around it could
/// leave a revoked key valid.
actor ControlMirror {
    private let control: ControlDatabase
    private let etcd: EtcdClient
    private let keys: ClusterKeys
    private let logger: Logger
    private var running: Task<Int, any Error>?
    private var lastMissRead: ContinuousClock.Instant?
    static let page = 1_000

    init(control: ControlDatabase, etcd: EtcdClient, keys: ClusterKeys, logger: Logger) {
        self.control = control
        self.etcd = etcd
        self.keys = keys
        self.logger = logger
    }

    /// Applies what was published since the last catch-up. Returns the rows changed here.
    @discardableResult
    func catchUp() async throws -> Int {
        if let running { return try await running.value }
        let task = Task { try await self.readAndApply() }
        running = task
        defer { running = nil }
        return try await task.value
    }

    /// A catch-up for an unknown key, at most one per 250 ms (a flood of made-up keys costs etcd
    /// four reads a second). Errors are logged, not thrown: the caller answers "not valid".
    func catchUpOnMiss() async {
        let now = ContinuousClock.now
        if let last = lastMissRead, now - last < .milliseconds(250) {
            if let running { _ = try? await running.value }
            return
        }
        lastMissRead = now
        do {
            try await catchUp()
        } catch {
            logger.warning("cluster: cannot read the fleet's control records", metadata: ["error": "\(error)"])
        }
    }

    private func readAndApply() async throws -> Int {
        let applied = try await control.read(ControlReplica.appliedRevision)
        var changed = 0
        var start = keys.control
        var pinned: Int64 = 0
        while true {
            let (kvs, revision) = try await etcd.changes(prefix: keys.control, from: start, after: applied, at: pinned, limit: Self.page)
            if pinned == 0 { pinned = revision }
            let rows = try kvs.sorted { ($0.modRevision, $0.key) < ($1.modRevision, $1.key) }
                .map { try ReplicatedRow.decode($0, keys: keys) }
                .enumerated().sorted { ($0.element.table.order, $0.offset) < ($1.element.table.order, $1.offset) }.map(\.element)
            let full = kvs.count >= Self.page
            // The revision is recorded only with the last page: a crash between pages rereads.
            let mark = full ? applied : pinned
            changed += try await control.write { try ControlReplica.apply($0, rows, revision: mark) }
            guard full, let last = kvs.map(\.key).max() else { return changed }
            start = last + "\u{0}"
        }
    }
}
