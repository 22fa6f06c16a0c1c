import Foundation
import MailSyncObjectStore

/// What the store holds of shipped databases, and what retention removes.
///
/// Retention (``RetentionPolicy``) keeps every moment of the last `window` restorable: the newest
/// generation whose snapshot is at or before `now - window` (it covers the start of the window)
/// and every newer generation. Beyond the window it also keeps, for `dailySnapshots` days and
/// `weeklySnapshots` weeks back, the newest generation started in each of those days and weeks
/// (restorable to any moment it covers). Older generations are deleted whole (manifest,
/// snapshot, segments). The newest generation is never deleted; a manifest that cannot be read
/// stops retention for that database with an error (nothing is deleted). Dry run:
/// ``retentionPlan(of:policy:now:)`` lists without deleting.
public struct ReplicaCatalog: Sendable {
    public let store: any ObjectStore
    public let sealer: any Sealer

    public init(store: any ObjectStore, sealer: any Sealer) {
        self.store = store
        self.sealer = sealer
    }

    /// One generation of one database.
    public struct Generation: Sendable, Equatable {
        public var id: String
        /// When its snapshot was taken: the earliest moment it restores.
        public var snapshotAt: Date
        /// When its last segment was shipped (or the snapshot, with none): the latest moment.
        public var reachesTo: Date
        public var objects: Int
        public var bytes: Int64
    }

    /// The database's generations, oldest first. Throws when a manifest cannot be opened (wrong
    /// key, damage), naming it.
    public func generations(of name: String) async throws -> [Generation] {
        let layout = try ReplicaLayout(name: name)
        let listing = try await store.list(prefix: layout.generationsPrefix)
        var result: [Generation] = []
        for id in Set(listing.compactMap { layout.generation(ofManifest: $0.key) }).sorted() {
            let manifest = try await RestorePlan.loadManifest(store: store, sealer: sealer, key: try layout.manifest(id))
            let objects = listing.filter { $0.key.value.hasPrefix(layout.generationsPrefix + id + "/") }
            let reaches = manifest.last?.shippedAtMilliseconds ?? manifest.snapshot.takenAtMilliseconds
            result.append(Generation(
                id: id, snapshotAt: Date(timeIntervalSince1970: Double(manifest.snapshot.takenAtMilliseconds) / 1000),
                reachesTo: Date(timeIntervalSince1970: Double(reaches) / 1000), objects: objects.count,
                bytes: objects.reduce(0) { $0 + $1.size }))
        }
        return result
    }

    /// The objects retention would delete for `name` now (see the type's documentation).
    public func retentionPlan(of name: String, policy: RetentionPolicy, now: Date) async throws -> [ObjectKey] {
        let layout = try ReplicaLayout(name: name)
        let generations = try await self.generations(of: name)
        let kept = policy.kept(generations.map { (id: $0.id, snapshotAt: $0.snapshotAt) }, now: now)
        let doomed = Set(generations.map(\.id)).subtracting(kept)
        guard !doomed.isEmpty else { return [] }
        let listing = try await store.list(prefix: layout.generationsPrefix)
        return listing.map(\.key).filter { key in
            doomed.contains { key.value.hasPrefix(layout.generationsPrefix + $0 + "/") }
        }
    }

    /// The plan for a window only (no daily or weekly snapshots kept beyond it).
    public func retentionPlan(of name: String, keep: Duration, now: Date) async throws -> [ObjectKey] {
        try await retentionPlan(of: name, policy: RetentionPolicy(window: keep), now: now)
    }

    /// Deletes what ``retentionPlan(of:policy:now:)`` lists; returns it.
    @discardableResult
    public func applyRetention(of name: String, policy: RetentionPolicy, now: Date) async throws -> [ObjectKey] {
        let doomed = try await retentionPlan(of: name, policy: policy, now: now)
        if !doomed.isEmpty { try await store.delete(doomed) }
        return doomed
    }

    /// ``applyRetention(of:policy:now:)`` with a window only.
    @discardableResult
    public func applyRetention(of name: String, keep: Duration, now: Date) async throws -> [ObjectKey] {
        let doomed = try await retentionPlan(of: name, keep: keep, now: now)
        if !doomed.isEmpty { try await store.delete(doomed) }
        return doomed
    }
}
