import Foundation

extension WALShipper {
    /// What a pause of writers found when marking a generation's start.
    enum Mark: Sendable {
        /// The pin now sits exactly at this position, the log's end.
        case marked(WALPosition)
        /// Writers added more than one pause may read; caught up to here, try again.
        case behind(WALPosition)
        /// The log is not the one read so far; start over from its beginning.
        case discontinuous
    }

    /// Starts a new generation: catches up with the log outside any pause, then holds writers
    /// still just long enough to read the log's last frames and pin a read transaction exactly at
    /// its end, then lets them go and copies the database as the pin sees it (SQLite's backup API,
    /// so writers keep committing during the copy). The snapshot therefore includes precisely the
    /// log up to the recorded offset, and the generation's segments continue from there.
    ///
    /// The old generation ends at its last uploaded segment (the snapshot holds what came after).
    /// Throws `.busy` if writers could not be held still within ``WALShipperOptions/lockTimeout``
    /// or kept adding more than a pause may read four times over; nothing changed then.
    func startGeneration(_ db: ShippedDatabase, _ report: inout ShipReport) async throws {
        var base = manifest == nil ? WALPosition.empty : position
        let limit = options.pauseReadLimitBytes
        let segmentLimit = options.segmentLimitBytes
        var mark: WALPosition?
        for _ in 0..<4 where mark == nil {
            let from = base
            base = try await thread.run {
                try db.repin()
                var at = from
                while true {
                    guard let tail = try db.readTail(after: at, limit: segmentLimit) else {
                        at = .empty
                        continue
                    }
                    at = tail.next
                    if tail.isComplete { return at }
                }
            }
            let caughtUp = base
            let outcome = try await thread.run { () -> Mark? in
                try db.withWritersPaused { () -> Mark in
                    guard let tail = try db.readTail(after: caughtUp, limit: limit) else { return .discontinuous }
                    guard tail.isComplete else { return .behind(tail.next) }
                    try db.repin()
                    return .marked(tail.next)
                }
            }
            switch outcome {
            case nil:
                throw ReplicationError(.busy, "could not hold the writers of \(databasePath) still within \(options.lockTimeout) to start a generation; the next ship retries")
            case .marked(let at)?: mark = at
            case .behind(let at)?: base = at
            case .discontinuous?: base = .empty
            }
        }
        guard let mark else {
            throw ReplicationError(.busy, "the writers of \(databasePath) kept adding more than \(limit) bytes of log between reads; the next ship retries the generation start")
        }
        pending.removeAll()
        let takenAt = now()
        let generation = ReplicaLayout.newGenerationID(milliseconds: takenAt)
        let key = try layout.snapshot(generation)
        let sealer = self.sealer
        // Copy, compress, hash and seal on the shipper's thread: seconds of CPU for a large file.
        let snapshot = try await thread.run { () -> (sealed: Data, sha256: String, size: Int, pageSize: Int) in
            let bytes = try db.pin.snapshotBytes()
            let sealed = try sealer.seal(Data(Compression.deflate(bytes)), key: key)
            return (sealed, Data(bytes).sha256Hex, bytes.count, Self.pageSize(ofDatabase: bytes))
        }
        try await store.put(key, snapshot.sealed)
        let manifest = GenerationManifest(
            format: 1, generation: generation, pageSize: mark.header?.pageSize ?? snapshot.pageSize,
            snapshot: .init(
                key: key.value, sha256: snapshot.sha256, size: Int64(snapshot.size), walIndex: 0,
                walOffset: Int64(mark.end), takenAtMilliseconds: takenAt),
            last: nil)
        try await putManifest(manifest)
        self.manifest = manifest
        position = WALPosition(header: mark.header, walIndex: 0, end: mark.end, checksum: mark.checksum)
        nextSequence = 0
        report.startedGeneration = true
    }

    /// The page size in a database file's header (offset 16, big-endian; 1 means 65,536).
    static func pageSize(ofDatabase bytes: [UInt8]) -> Int {
        guard bytes.count >= 18 else { return 4096 }
        let value = Int(bytes[16]) << 8 | Int(bytes[17])
        return value == 1 ? 65536 : max(512, value)
    }
}
