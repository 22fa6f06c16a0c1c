/// One step of a file's schema history: the change that takes a file to `version`.
///
/// Versions are `PRAGMA user_version` values and a list must be numbered 1, 2, 3, … with no gaps
/// (``Migrator`` checks). A step is either SQL (may hold several statements) or a closure that
/// gets the connection; either way it runs inside the step's `BEGIN IMMEDIATE` transaction, so it
/// must not begin or commit one itself. Never edit a released step: add a new one.
public struct Migration: Sendable {
    /// The schema version this step produces.
    public let version: Int32
    /// A short name for logs ("create leads").
    public let name: String
    let apply: @Sendable (SQLiteConnection) throws -> Void

    /// A step that runs `sql` (one or more `;`-separated statements).
    public init(version: Int32, name: String, sql: String) {
        self.version = version
        self.name = name
        self.apply = { try $0.execute(sql) }
    }

    /// A step that runs Swift code, for data rewrites SQL cannot express.
    public init(version: Int32, name: String, apply: @escaping @Sendable (SQLiteConnection) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}
