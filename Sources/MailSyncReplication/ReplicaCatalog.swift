import Foundation
import MailSyncObjectStore

/// What the store holds of shipped databases, and what retention removes.
///
/// Retention keeps every moment of the last `keep` restorable: the newest generation whose
/// snapshot is at or before `now - keep` (it covers the start of the window) and every newer
/// generation; older generations are deleted whole (manifest, snapshot, segments). A generation
/// whose manifest cannot be read is never deleted by retention (an operator should look), nor
/// is the newest generation ever. Dry run: ``retentionPlan(of:keep:now:)`` lists without deleting.
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
    public func retentionPlan(of name: String, keep: Duration, now: Date) async throws -> [ObjectKey] {
        let layout = try ReplicaLayout(name: name)
        let generations = try await self.generations(of: name)
        let windowStart = now.addingTimeInterval(-Double(keep.components.seconds))
        // The newest generation starting at or before the window's start still serves it.
        guard let covering = generations.lastIndex(where: { $0.snapshotAt <= windowStart }), covering > 0 else { return [] }
        let doomed = Set(generations[..<covering].map(\.id))
        let listing = try await store.list(prefix: layout.generationsPrefix)
        return listing.map(\.key).filter { key in
            doomed.contains { key.value.hasPrefix(layout.generationsPrefix + $0 + "/") }
        }
    }

    /// Deletes what ``retentionPlan(of:keep:now:)`` lists; returns it.
    @discardableResult
    public func applyRetention(of name: String, keep: Duration, now: Date) async throws -> [ObjectKey] {
        let doomed = try await retentionPlan(of: name, keep: keep, now: now)
        if !doomed.isEmpty { try await store.delete(doomed) }
        return doomed
    }
}
