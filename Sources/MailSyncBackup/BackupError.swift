/// Why a backup, verify or restore failed, in words for an operator: which backup, what is wrong
/// with it, and what to do. A refused restore never touched the live database; the message says so.
public struct BackupError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The backup id is not of the form `<tenant-uuid>/<stamp>`.
        case invalidID
        /// No such backup (no manifest), or no such tenant file to back up.
        case notFound
        /// The compressed file does not match its manifest's SHA-256 (or the data inside does not
        /// match its own), or the manifest cannot be read: the file was changed or damaged.
        case corrupted
        /// The compressed file is shorter than its manifest says, or its zlib stream ends early.
        case truncated
        /// The backup belongs to another tenant (by its id, its manifest, or its file's stamp).
        case wrongTenant
        /// The database inside failed `integrity_check`/`quick_check`, or is not a Mail Sync file.
        case damaged
        /// The database inside has a newer schema than this server knows.
        case newerSchema
        /// Another backup or restore of the same tenant is running.
        case busy
        /// A file could not be read, written or synced (a full disk, permissions).
        case fileSystem
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
