import Foundation

/// A generation's index: its snapshot (key, SHA-256 of the plaintext, size, the log position it
/// was taken at, when) and the last segment shipped, so a restore can tell a complete chain of
/// segments from one missing its end. Small and of fixed size: rewritten after every ship.
/// JSON, sealed like every object. `format` is 1; a reader refuses any other.
public struct GenerationManifest: Codable, Sendable, Equatable {
    /// The snapshot object holds the database file zlib-compressed (``Compression``); `sha256`
    /// and `size` are the uncompressed file's.
    public struct Snapshot: Codable, Sendable, Equatable {
        public var key: String
        public var sha256: String
        public var size: Int64
        /// The log (index within the generation) and offset the snapshot includes everything up to.
        public var walIndex: UInt32
        public var walOffset: Int64
        public var takenAtMilliseconds: Int64
    }

    public struct LastSegment: Codable, Sendable, Equatable {
        public var sequence: UInt32
        public var walIndex: UInt32
        public var end: Int64
        public var shippedAtMilliseconds: Int64
    }

    public var format: Int
    public var generation: String
    public var pageSize: Int
    public var snapshot: Snapshot
    /// `nil` until the first segment of the generation is shipped.
    public var last: LastSegment?

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    static func decode(_ data: Data, key: String) throws -> GenerationManifest {
        let manifest: GenerationManifest
        do {
            manifest = try JSONDecoder().decode(GenerationManifest.self, from: data)
        } catch {
            throw ReplicationError(.damagedObject, "the manifest \(key) is not readable (\(error)); restore from another generation", object: key)
        }
        guard manifest.format == 1 else {
            throw ReplicationError(.damagedObject, "the manifest \(key) has format \(manifest.format), which this build does not know", object: key)
        }
        return manifest
    }
}
