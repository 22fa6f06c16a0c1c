import Foundation

/// What a backup is, written as JSON next to its compressed file (`<stamp>.json`).
///
/// The manifest is written last: a backup without one is unfinished and is neither listed nor
/// restorable. Its checksums let ``TenantBackups/verify(_:)`` tell a corrupted file (`sha256`
/// differs), a truncated one (shorter than `compressedSize`) and a damaged database apart.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// The format of this manifest and the file beside it. Readers refuse a newer one.
    public static let currentFormat = 1

    public var format: Int
    /// ``BackupID`` as text: `<tenant>/<stamp>`.
    public var id: String
    /// The tenant (company) id.
    public var tenantID: String
    /// `PRAGMA user_version` of the backed-up database.
    public var schemaVersion: Int32
    /// When the snapshot was taken, microseconds since 1970 (UTC), and the same for people.
    public var createdAtMicroseconds: Int64
    public var createdAt: String
    /// Size of the database (the snapshot) and of the compressed file, in bytes.
    public var uncompressedSize: UInt64
    public var compressedSize: UInt64
    /// Hex SHA-256 of the compressed file (what ``TenantBackups/verify(_:)`` checks first).
    public var sha256: String
    /// Hex SHA-256 of the database inside: checked after decompressing, and how an unchanged
    /// tenant is recognised after a change of its files that changed no data (a checkpoint).
    public var databaseSHA256: String
    /// Always `zlib` (RFC 1950) in format 1.
    public var compression: String
    /// The tenant's files as they were just before the snapshot, to skip an unchanged tenant.
    public var source: SourceMarker

    enum CodingKeys: String, CodingKey {
        case format, id, compression, source
        case tenantID = "tenant_id"
        case schemaVersion = "schema_version"
        case createdAtMicroseconds = "created_at_us"
        case createdAt = "created_at"
        case uncompressedSize = "uncompressed_size"
        case compressedSize = "compressed_size"
        case sha256
        case databaseSHA256 = "database_sha256"
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
    }
}

/// Size, modification time and inode of a tenant's database file and its `-wal`, taken before a
/// snapshot. Every committed write changes the `-wal` (or, after a checkpoint, the file) and with
/// it the time; a restore replaces the file (a new inode). Equal markers mean no change since.
public struct SourceMarker: Codable, Sendable, Equatable {
    public var database: FileMark?
    public var wal: FileMark?
}

/// One file's size, modification time (nanoseconds since 1970) and inode.
public struct FileMark: Codable, Sendable, Equatable {
    public var size: UInt64
    public var modifiedNanoseconds: Int64
    public var inode: UInt64

    enum CodingKeys: String, CodingKey {
        case size, inode
        case modifiedNanoseconds = "modified_ns"
    }
}
