import Foundation
import MailSyncObjectStore

/// What a restore will download: one generation's manifest, snapshot and the chain of segments
/// up to the requested time, checked for gaps before anything is downloaded.
struct RestorePlan: Sendable {
    var manifest: GenerationManifest
    var segments: [(key: ObjectKey, name: SegmentName)]

    /// Picks the newest generation whose snapshot was taken at or before `time` (the newest of
    /// all when `time` is nil) and the segments shipped at or before `time`.
    ///
    /// The generation's segments must form one chain from the snapshot's position to the
    /// manifest's last segment: numbered 0, 1, 2, … without a gap, each starting where the one
    /// before ended in the same log or at the start of the next log. A gap or break anywhere in
    /// that chain refuses the restore, naming the object (a missing segment's name is known up to
    /// its number). Segments numbered past the manifest's last (uploaded by a ship that did not
    /// finish) are ignored.
    static func make(store: any ObjectStore, sealer: any Sealer, layout: ReplicaLayout, at time: Int64?) async throws -> RestorePlan {
        let listing = try await store.list(prefix: layout.generationsPrefix)
        let generations = listing.compactMap { layout.generation(ofManifest: $0.key) }.sorted(by: >)
        guard !generations.isEmpty else {
            throw ReplicationError(.noBackup, "the store holds no backup of \(layout.name) (nothing under \(layout.generationsPrefix))")
        }
        var chosen: GenerationManifest?
        for generation in generations {
            let manifest = try await loadManifest(store: store, sealer: sealer, key: try layout.manifest(generation))
            if let time, manifest.snapshot.takenAtMilliseconds > time { continue }
            chosen = manifest
            break
        }
        guard let manifest = chosen else {
            throw ReplicationError(.noBackup, "the store holds no snapshot of \(layout.name) taken at or before the requested time; the oldest generation starts later")
        }
        let prefix = layout.segmentsPrefix(manifest.generation)
        var bySequence: [UInt32: (ObjectKey, SegmentName)] = [:]
        for info in listing where info.key.value.hasPrefix(prefix) {
            let fileName = info.key.value.dropFirst(prefix.count)
            guard let name = SegmentName(fileName: fileName) else { continue }
            bySequence[name.sequence] = (info.key, name)
        }
        var chain: [(key: ObjectKey, name: SegmentName)] = []
        if let last = manifest.last {
            var walIndex = manifest.snapshot.walIndex
            var end = UInt64(max(0, manifest.snapshot.walOffset))
            for sequence in 0...last.sequence {
                guard let found = bySequence[sequence] else {
                    let missing = prefix + hex(UInt64(sequence), digits: 8) + "-…"
                    throw ReplicationError(.missingObject, "segment \(sequence) of generation \(manifest.generation) (\(missing)) is missing from the store; the restore was refused", object: missing)
                }
                let (key, name) = found
                let continues = (name.walIndex == walIndex && name.offset == end)
                    || (name.walIndex == walIndex &+ 1 && name.offset == UInt64(WALHeader.size))
                guard continues else {
                    throw ReplicationError(.damagedObject, "the segment \(key) does not continue the one before it (log \(walIndex) at \(end)); the restore was refused", object: key.value)
                }
                walIndex = name.walIndex
                end = name.end
                chain.append((key, name))
            }
            guard walIndex == last.walIndex, end == UInt64(max(0, last.end)) else {
                throw ReplicationError(.damagedObject, "generation \(manifest.generation)'s segments end at log \(walIndex) offset \(end), not where its manifest says; the restore was refused", object: try layout.manifest(manifest.generation).value)
            }
        }
        if let time {
            chain = Array(chain.prefix { $0.name.shippedAtMilliseconds <= time })
        }
        return RestorePlan(manifest: manifest, segments: chain)
    }

    static func loadManifest(store: any ObjectStore, sealer: any Sealer, key: ObjectKey) async throws -> GenerationManifest {
        guard let sealed = try await store.get(key) else {
            throw ReplicationError(.missingObject, "the manifest \(key) is missing from the store", object: key.value)
        }
        let plaintext: Data
        do {
            plaintext = try sealer.open(sealed, key: key)
        } catch {
            throw ReplicationError(.damagedObject, "the manifest \(key) cannot be opened (\(error)); wrong backup key, or the object is damaged", object: key.value)
        }
        return try GenerationManifest.decode(plaintext, key: key.value)
    }
}
