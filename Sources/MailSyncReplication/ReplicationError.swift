/// Why shipping or a restore failed, in words for an operator: which object or file, what is
/// wrong, what to do. A refused restore leaves nothing at its destination.
public struct ReplicationError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: new kinds may be added without breaking callers.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The store holds no generation (or none at or before the requested time).
        public static let noBackup = Kind(name: "noBackup")
        /// An object the restore needs is not in the store.
        public static let missingObject = Kind(name: "missingObject")
        /// An object does not match its recorded SHA-256, cannot be opened, or is malformed.
        public static let damagedObject = Kind(name: "damagedObject")
        /// The rebuilt database failed `integrity_check`.
        public static let integrity = Kind(name: "integrity")
        /// The destination exists, or a local file could not be read or written.
        public static let fileSystem = Kind(name: "fileSystem")
        /// SQLite refused an operation on the shipped database (open, lock, checkpoint, snapshot).
        public static let database = Kind(name: "database")
        /// The shipper was closed, or is already shipping.
        public static let busy = Kind(name: "busy")
        public var description: String { name }
    }

    public var kind: Kind
    public var message: String
    /// The object key the failure is about, when there is one.
    public var object: String?

    public init(_ kind: Kind, _ message: String, object: String? = nil) {
        self.kind = kind
        self.message = message
        self.object = object
    }

    public var description: String { message }
}
