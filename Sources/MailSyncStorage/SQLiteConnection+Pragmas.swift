extension SQLiteConnection {
    /// `PRAGMA user_version`: the schema version, maintained by ``Migrator``.
    public func userVersion() throws -> Int32 {
        Int32(truncatingIfNeeded: try scalar("PRAGMA user_version")?.int64 ?? 0)
    }

    /// Sets `PRAGMA user_version`. Pragmas take no parameters, so the number is formatted in.
    public func setUserVersion(_ version: Int32) throws {
        try execute("PRAGMA user_version=\(version)")
    }

    /// `PRAGMA application_id`: the 32-bit number in the file header that says what the file is.
    public func applicationID() throws -> Int32 {
        Int32(truncatingIfNeeded: try scalar("PRAGMA application_id")?.int64 ?? 0)
    }

    /// Sets `PRAGMA application_id`.
    public func setApplicationID(_ id: Int32) throws {
        try execute("PRAGMA application_id=\(id)")
    }
}
