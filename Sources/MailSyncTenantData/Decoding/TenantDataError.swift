/// Why the tenant-data layer refused or could not read something, without any RPC status in it:
/// the service maps each kind to a status (`StorageFailure` in `MailSyncService`), the sync engine
/// to a failure of the run.
///
/// `message` is written for the caller who asked: what is missing or wrong, naming the field or id,
/// and what to do. It never holds SQL or a secret.
public struct TenantDataError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A row the caller named does not exist (a mailbox, user, company, API key, lead, …).
        case notFound
        /// A value the caller gave is not acceptable (naming the field).
        case invalidArgument
        /// The request is well formed but the stored state does not allow it (a cap, the last
        /// administrator, a mailbox that cannot send).
        case failedPrecondition
        /// A stored row cannot be decoded: a NULL where a value must be, a value out of range, an
        /// enum value this build does not know. Never replaced by a default.
        case corruptRow
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    package static func notFound(_ message: String) -> TenantDataError { TenantDataError(.notFound, message) }
    package static func invalidArgument(_ message: String) -> TenantDataError { TenantDataError(.invalidArgument, message) }
    package static func failedPrecondition(_ message: String) -> TenantDataError { TenantDataError(.failedPrecondition, message) }

    /// A row that cannot be decoded, naming the table, the column and the row (its key, when the
    /// row has one), and what is wrong with the value.
    package static func corruptRow(table: String, column: String, row: String?, _ problem: String) -> TenantDataError {
        TenantDataError(.corruptRow, "\(table).\(column) of row \(row.map { "'\($0)'" } ?? "(no key)") \(problem)")
    }
}
