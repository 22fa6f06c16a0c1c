import Foundation
import MailSyncObjectStore

/// Ships one SQLite database's WAL to an object store, continuously: a snapshot per generation,
/// then every committed frame, in segments, so the database can be rebuilt at any shipped point
/// from the store alone (``PointInTimeRestore``).
///
/// Call ``shipOnce()`` on a schedule (every second or few: the bound on lost writes). Each call
/// reads the frames committed since the last one from the `-wal` file (whole transactions only,
/// validated by their checksums), uploads them as one segment (several when more than
/// ``WALShipperOptions/segmentLimitBytes``), then records the new end in the generation's
/// manifest; with nothing new it uploads nothing. Segments and snapshots are zlib-compressed and
/// pass through the ``Sealer``. The first call, and the first after ``WALShipperOptions/snapshotInterval``,
/// starts a new generation with a snapshot. Layout: ``ReplicaLayout``.
///
/// **The shipper owns checkpoints.** Every connection to the file must be opened with
/// `PRAGMA wal_autocheckpoint=0` and without checkpoint on close
/// (`SQLiteConnection.Options.prepareForWALShipping()`). Once the log holds
/// ``WALShipperOptions/checkpointThresholdBytes``, a ship ends with a checkpoint that copies
/// only frames already read, in two steps: a passive checkpoint bounded by the shipper's pinned
/// read transaction (taken before the log was read, so it is never ahead of what was read), then,
/// if writers added frames meanwhile, a short pause of writers (the write lock taken, nothing
/// written) in which the last frames are read (at most ``WALShipperOptions/pauseReadLimitBytes``,
/// no network) and a passive checkpoint copies the whole log. Writers faster than that put the
/// checkpoint off, and the log grows, until they slow down.
/// SQLite restarts the log at the next write only once every frame is copied, so a restarted log
/// (salt-1 and the checkpoint sequence one higher) continues the generation with the next log
/// index. A log the shipper cannot continue (restarted by someone else, replaced) starts a new
/// generation. Frames read in a pause are uploaded after it and kept in memory until they are:
/// a failed upload is retried, before anything newer, by the next ship.
///
/// Failure: every call throws ``ReplicationError`` or the store's ``ObjectStoreError``; nothing
/// is lost by a failed call (the next one resumes). A new shipper (a restarted process) always
/// starts a new generation. A snapshot is built in memory (the store takes whole objects), so a
/// generation start needs about the database's size in memory. Old generations are never
/// deleted here (retention is the caller's). Calls must not overlap (an overlapping call throws
/// `.busy`). Blocking work runs on a thread of the shipper's own; ``close()`` ends it (a shipper
/// must be closed).
public actor WALShipper {
    public nonisolated let databasePath: String
    public nonisolated let layout: ReplicaLayout
    let store: any ObjectStore
    let sealer: any Sealer
    let options: WALShipperOptions
    let clock: @Sendable () -> Date
    let thread: ShipperThread

    var database: ShippedDatabase?
    var isShipping = false
    var isClosed = false
    /// The generation being shipped to, with its manifest; `nil` before the first ship.
    var manifest: GenerationManifest?
    /// How far the log was read.
    var position = WALPosition.empty
    var nextSequence: UInt32 = 0
    /// Segments read but not yet uploaded, in order.
    var pending: [(name: SegmentName, plaintext: Data)] = []

    /// - Parameters:
    ///   - databasePath: the database file (its log is `<path>-wal`); it must exist in WAL mode.
    ///   - name: the database's prefix in the store (see ``ReplicaLayout``).
    ///   - clock: the wall clock segments and snapshots are stamped with. Default `Date()`.
    public init(
        databasePath: String, name: String, store: any ObjectStore, sealer: any Sealer,
        options: WALShipperOptions = WALShipperOptions(), clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.databasePath = databasePath
        self.layout = try ReplicaLayout(name: name)
        self.store = store
        self.sealer = sealer
        self.options = options
        self.clock = clock
        self.thread = ShipperThread(name: "wal shipper")
    }

    /// The generation being shipped to, if any.
    public var generation: String? { manifest?.generation }

    /// Ships what was committed since the last call; see the type's documentation.
    @discardableResult
    public func shipOnce() async throws -> ShipReport {
        guard !isClosed else { throw ReplicationError(.busy, "the WAL shipper of \(databasePath) is closed") }
        guard !isShipping else { throw ReplicationError(.busy, "a ship of \(databasePath) is already running") }
        isShipping = true
        defer { isShipping = false }
        var report = ShipReport()
        let db = try await openDatabase()
        try await flushPending(&report)
        if needsNewGeneration() {
            try await startGeneration(db, &report)
        }
        // Pin first, then read: the pin is never ahead of what was read.
        var from = position
        var first = true
        var restarts = 0
        while true {
            let pinFirst = first
            let limit = options.segmentLimitBytes
            let start = from
            guard let tail = try await thread.run({ () -> WALTail? in
                if pinFirst { try db.repin() }
                return try db.readTail(after: start, limit: limit)
            }) else {
                restarts += 1
                guard restarts == 1 else {
                    throw ReplicationError(.busy, "the log of \(databasePath) keeps being replaced under the shipper; is another process checkpointing it?")
                }
                try await startGeneration(db, &report)
                from = position
                first = true
                continue
            }
            first = false
            try await stage(tail)
            try await flushPending(&report)
            from = position
            if tail.isComplete { break }
        }
        if ShippedDatabase.logBytes(position) >= options.checkpointThresholdBytes {
            try await checkpoint(db, &report)
        }
        report.generation = manifest?.generation ?? ""
        report.walIndex = position.walIndex
        report.walOffset = position.end
        return report
    }

    /// Ends the shipper: releases its read transaction, closes its connections and its thread.
    /// Segments read and not yet uploaded are dropped (they were never reported as shipped).
    public func close() async {
        guard !isClosed else { return }
        isClosed = true
        if let db = database {
            _ = try? await thread.run { db.close() }
        }
        database = nil
        thread.stop()
    }

    private func openDatabase() async throws -> ShippedDatabase {
        if let database { return database }
        let path = databasePath
        let timeout = Int32(clamping: options.lockTimeout.milliseconds)
        let db = try await thread.run { try ShippedDatabase(path: path, lockTimeoutMilliseconds: timeout) }
        database = db
        return db
    }

    func now() -> Int64 {
        Int64((clock().timeIntervalSince1970 * 1000).rounded(.down))
    }

    private func needsNewGeneration() -> Bool {
        guard let manifest else { return true }
        return now() - manifest.snapshot.takenAtMilliseconds >= options.snapshotInterval.milliseconds
    }

    /// Queues `tail`'s frames as the generation's next segment and moves the position past them.
    /// The segment is compressed and hashed on the shipper's thread (seconds of CPU for a large
    /// one must not hold the cooperative pool).
    func stage(_ tail: WALTail) async throws {
        if tail.frameCount > 0 {
            let name = SegmentName(
                sequence: nextSequence, walIndex: tail.walIndex, offset: UInt64(tail.offset),
                end: UInt64(tail.next.end), shippedAtMilliseconds: now())
            let segment = try await thread.run { SegmentCodec.encode(frames: tail.frames, frameCount: tail.frameCount, pageSize: tail.pageSize) }
            nextSequence &+= 1
            pending.append((name, segment))
        }
        position = tail.next
    }

    /// Uploads the queued segments in order, then the manifest naming the last one.
    func flushPending(_ report: inout ShipReport) async throws {
        guard var manifest, !pending.isEmpty else { return }
        var last = manifest.last
        while let next = pending.first {
            let (name, plaintext) = (next.name, next.plaintext)
            let key = try layout.segment(manifest.generation, name)
            let sealer = self.sealer
            try await store.put(key, try await thread.run { try sealer.seal(plaintext, key: key) })
            pending.removeFirst()
            report.segments += 1
            report.segmentBytes += plaintext.count
            last = .init(sequence: name.sequence, walIndex: name.walIndex, end: Int64(name.end), shippedAtMilliseconds: name.shippedAtMilliseconds)
        }
        manifest.last = last
        try await putManifest(manifest)
        self.manifest = manifest
    }

    func putManifest(_ manifest: GenerationManifest) async throws {
        let key = try layout.manifest(manifest.generation)
        try await store.put(key, try sealer.seal(try manifest.encoded(), key: key))
    }
}
