import Foundation
import MailSyncObjectStore

/// Rebuilds a shipped database, as it was at a point in time, from the object store alone.
///
/// Picks the newest generation whose snapshot is at or before the time (``RestorePlan``),
/// downloads its snapshot and the segments shipped up to the time, verifies each object (the
/// sealer opens it, it inflates to its recorded size; the snapshot's SHA-256 against the
/// manifest, each segment's against the digest it carries), writes the pages into a new file at the destination
/// (``DatabaseRebuild``), switches it to `journal_mode=DELETE` and runs `integrity_check`; only
/// then returns. The point restored is the last ship at or before the time: commits are known to
/// the second they were shipped, not committed.
///
/// Failure: throws ``ReplicationError`` (`.missingObject` or `.damagedObject` naming the object,
/// `.noBackup`, `.integrity`, `.fileSystem`) or the store's error, and removes what it wrote. It
/// writes nothing but `destination` (and SQLite's `-journal`/`-wal` beside it while verifying);
/// an existing destination is refused. The snapshot and one segment at a time are held in
/// memory. Blocking file and SQLite work runs on a thread of its own.
public struct PointInTimeRestore: Sendable {
    public let store: any ObjectStore
    public let sealer: any Sealer
    public let layout: ReplicaLayout

    public init(store: any ObjectStore, sealer: any Sealer, name: String) throws {
        self.store = store
        self.sealer = sealer
        self.layout = try ReplicaLayout(name: name)
    }

    /// What was restored.
    public struct Result: Sendable {
        public var generation: String
        /// Segments applied after the snapshot.
        public var segments: Int
        /// Shipping time of the last segment applied (or the snapshot's time), ms since 1970.
        public var restoredToMilliseconds: Int64
    }

    /// Restores to `time` (the newest shipped state when `nil`) into the new file `destination`.
    @discardableResult
    public func restore(to destination: String, at time: Date? = nil) async throws -> Result {
        let milliseconds = time.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) }
        let plan = try await RestorePlan.make(store: store, sealer: sealer, layout: layout, at: milliseconds)
        let manifest = plan.manifest
        let snapshotKey = try ObjectKey(manifest.snapshot.key)
        let sealedSnapshot = try await fetch(snapshotKey)
        let sealer = self.sealer
        let pageSize = manifest.pageSize
        let snapshotInfo = manifest.snapshot
        // Opening, inflating, hashing and writing are CPU and disk work: off the cooperative pool.
        let rebuild = try await Self.offPool { () -> DatabaseRebuild in
            let snapshot = try Compression.inflate(
                [UInt8](try Self.open(sealedSnapshot, key: snapshotKey, with: sealer))[...],
                size: Int(clamping: snapshotInfo.size), object: snapshotKey.value)
            guard Data(snapshot).sha256Hex == snapshotInfo.sha256 else {
                throw ReplicationError(.damagedObject, "the snapshot \(snapshotKey) does not match its SHA-256 in the manifest; the restore was refused", object: snapshotKey.value)
            }
            return try DatabaseRebuild(path: destination, pageSize: pageSize, snapshot: snapshot)
        }
        do {
            for (key, _) in plan.segments {
                let sealed = try await fetch(key)
                try await Self.offPool {
                    let frames = try SegmentCodec.decode(try Self.open(sealed, key: key, with: sealer), pageSize: pageSize, key: key.value)
                    try rebuild.apply(frames: frames, object: key.value)
                }
            }
            try await Self.offPool {
                try rebuild.finish()
                try DatabaseRebuild.verify(destination)
            }
        } catch {
            _ = try? await Self.offPool {
                rebuild.closeFile()
                for suffix in ["", "-journal", "-wal", "-shm"] { unlink(destination + suffix) }
            }
            throw error
        }
        return Result(
            generation: manifest.generation, segments: plan.segments.count,
            restoredToMilliseconds: plan.segments.last?.name.shippedAtMilliseconds ?? manifest.snapshot.takenAtMilliseconds)
    }

    /// The sealed object; throws `.missingObject` naming it when the store does not have it.
    private func fetch(_ key: ObjectKey) async throws -> Data {
        guard let sealed = try await store.get(key) else {
            throw ReplicationError(.missingObject, "\(key) is missing from the store; the restore was refused", object: key.value)
        }
        return sealed
    }

    static func open(_ sealed: Data, key: ObjectKey, with sealer: any Sealer) throws -> Data {
        do {
            return try sealer.open(sealed, key: key)
        } catch {
            throw ReplicationError(.damagedObject, "\(key) cannot be opened (\(error)); the restore was refused", object: key.value)
        }
    }

    /// Runs blocking work on a thread of its own, never on the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Swift.Result { try body() }) }
            thread.name = "wal restore"
            thread.start()
        }
    }
}
