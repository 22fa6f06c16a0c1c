#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a database file must say it is: an application id in its header and an owner in a
/// one-row `mailsync_meta` table.
///
/// Both are written when the file is created and checked on every open, so a file copied,
/// moved or restored into the wrong place is refused instead of serving one tenant's data to
/// another. Tenant files use ``tenantApplicationID`` ("MSYT") and their tenant id as owner; the
/// control database uses ``controlApplicationID`` ("MSYC") and the owner `control`.
public struct FileStamp: Sendable, Hashable {
    /// `PRAGMA application_id` of tenant files: "MSYT".
    public static let tenantApplicationID: Int32 = 0x4D53_5954
    /// `PRAGMA application_id` of the control database: "MSYC".
    public static let controlApplicationID: Int32 = 0x4D53_5943

    public let applicationID: Int32
    /// The tenant id (lowercase) or `control`.
    public let owner: String

    public init(applicationID: Int32, owner: String) {
        self.applicationID = applicationID
        self.owner = owner
    }

    public static func tenant(_ tenant: TenantID) -> FileStamp {
        FileStamp(applicationID: tenantApplicationID, owner: tenant.pathComponent)
    }

    public static let control = FileStamp(applicationID: controlApplicationID, owner: "control")

    private var kindName: String {
        switch applicationID {
        case Self.tenantApplicationID: "tenant"
        case Self.controlApplicationID: "control"
        default: "database"
        }
    }

    /// Stamps a new, empty file. Runs in its own immediate transaction.
    func write(to db: SQLiteConnection, createdAt: Int64 = Int64(time(nil))) throws {
        try db.transaction(immediate: true) {
            try db.setApplicationID(applicationID)
            try db.execute("""
                CREATE TABLE mailsync_meta (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    tenant_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """)
            try db.run("INSERT INTO mailsync_meta (id, tenant_id, created_at) VALUES (1, ?, ?)", [.text(owner), .integer(createdAt)])
        }
    }

    /// ``verify(_:)`` on the file at `path`, opened read-only in rollback mode (a file just
    /// rebuilt by a restore, not yet in place). Throws what `verify` throws, or the open's error.
    public func verify(fileAt path: String) throws {
        var options = SQLiteConnection.Options()
        options.walMode = false
        let db = try SQLiteConnection(path: path, mode: .open, options: options)
        defer { db.close() }
        try verify(db)
    }

    /// Checks the header's application id and the owner row. Throws `.wrongApplicationID` or
    /// `.wrongOwner` with a message that says what the file is and what to do. Does not write.
    /// Public for tools that check a file before putting it in place (a restore).
    public func verify(_ db: SQLiteConnection) throws {
        let found = try db.applicationID()
        guard found == applicationID else {
            let what: String =
                switch found {
                case Self.tenantApplicationID: "it is a Mail Sync tenant file"
                case Self.controlApplicationID: "it is a Mail Sync control database"
                case 0: "it has no application id"
                default: "its application id is 0x\(String(UInt32(bitPattern: found), radix: 16))"
                }
            throw StorageError(
                kind: .wrongApplicationID,
                message: "\(db.path) is not a Mail Sync \(kindName) file (\(what)); it was put there by mistake or is damaged",
                path: db.path
            )
        }
        let hasTable = try db.scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'mailsync_meta'")?.int64 == 1
        let stamped = hasTable ? try db.scalar("SELECT tenant_id FROM mailsync_meta WHERE id = 1")?.string : nil
        guard let stamped else {
            throw StorageError(kind: .wrongOwner, message: "\(db.path) has no owner stamp (mailsync_meta); it is damaged or was not made by mailsync", path: db.path)
        }
        guard stamped == owner else {
            throw StorageError(
                kind: .wrongOwner,
                message: "\(db.path) is stamped for tenant \(stamped), expected \(owner): the file was moved or restored into the wrong place",
                path: db.path
            )
        }
    }
}
