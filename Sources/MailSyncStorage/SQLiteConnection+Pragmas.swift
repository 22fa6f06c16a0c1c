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

extension SQLiteConnection {
    /// Caps the main database file at `bytes` (`PRAGMA max_page_count`, rounded down to whole
    /// pages): a write that would grow it further fails with `SQLITE_FULL` and rolls back
    /// (``StorageError/isFull``). Never below the pages already in use. A per-connection setting,
    /// cheap (no I/O): callers may set it before every write transaction.
    public func limitSize(toBytes bytes: Int64) throws {
        let pageSize = try pageSize()
        let pages = max(1, bytes / pageSize)
        try execute("PRAGMA max_page_count=\(pages)")
    }

    /// `PRAGMA page_size`, read once per connection and remembered.
    public func pageSize() throws -> Int64 {
        if let known = cachedPageSize { return known }
        let size = max(512, try scalar("PRAGMA page_size")?.int64 ?? 4096)
        cachedPageSize = size
        return size
    }

    /// Bytes the main database file holds now (`page_count` × `page_size`).
    public func databaseBytes() throws -> Int64 {
        try (scalar("PRAGMA page_count")?.int64 ?? 0) * pageSize()
    }
}
