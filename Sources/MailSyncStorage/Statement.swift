import CSQLite

/// A prepared SQLite statement: bind, step, read columns, reset.
///
/// Get one from ``SQLiteConnection/withStatement(_:_:)``, which reuses cached statements. Parameter
/// and column indexes are 0-based here (SQLite's parameters are 1-based; this type adds the 1).
/// Not thread-safe: use it only inside the closure that handed it to you, on that thread.
public final class Statement {
    let handle: OpaquePointer
    let db: OpaquePointer
    /// The SQL text it was prepared from.
    public let sql: String
    private var columnIndexes: [String: Int32]?
    var inUse = false

    init(handle: OpaquePointer, db: OpaquePointer, sql: String) {
        self.handle = handle
        self.db = db
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    private func check(_ code: Int32) throws {
        if code != SQLITE_OK { throw StorageError.sqlite(code, db: db, statement: sql) }
    }

    // MARK: Binding

    /// The number of `?` parameters.
    public var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Resets the statement, clears old bindings and binds `values` to parameters 0, 1, ….
    public func bind(_ values: [SQLiteValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (index, value) in values.enumerated() {
            try bind(value, at: Int32(index))
        }
    }

    /// Binds one value at a 0-based parameter index.
    public func bind(_ value: SQLiteValue, at index: Int32) throws {
        switch value {
        case .integer(let v): try bind(v, at: index)
        case .real(let v): try check(sqlite3_bind_double(handle, index + 1, v))
        case .text(let v): try bind(v, at: index)
        case .blob(let v): try bind(v, at: index)
        case .null: try check(sqlite3_bind_null(handle, index + 1))
        }
    }

    /// Binds an integer without wrapping it in a ``SQLiteValue``.
    public func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index + 1, value))
    }

    /// Binds UTF-8 text with its exact byte length (NUL characters survive). SQLite copies it.
    public func bind(_ value: String, at index: Int32) throws {
        var value = value
        let code = value.withUTF8 { buffer -> Int32 in
            // An empty buffer may have a nil base address, which SQLite would bind as NULL.
            if buffer.isEmpty { return sqlite3_bind_text(handle, index + 1, "", 0, csqlite_transient()) }
            return buffer.withMemoryRebound(to: CChar.self) {
                sqlite3_bind_text64(handle, index + 1, $0.baseAddress, UInt64($0.count), csqlite_transient(), UInt8(SQLITE_UTF8))
            }
        }
        try check(code)
    }

    /// Binds a blob. SQLite copies it. An empty array binds an empty blob, not NULL.
    public func bind(_ value: [UInt8], at index: Int32) throws {
        let code = value.withUnsafeBytes { buffer -> Int32 in
            if buffer.isEmpty { return sqlite3_bind_zeroblob(handle, index + 1, 0) }
            return sqlite3_bind_blob64(handle, index + 1, buffer.baseAddress, UInt64(buffer.count), csqlite_transient())
        }
        try check(code)
    }

    // MARK: Stepping

    /// Runs one step. Returns `true` when a row is ready to read, `false` when the statement is done.
    ///
    /// Throws ``StorageError`` on failure (the statement is then reset by the next `bind`/`reset`).
    public func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            sqlite3_reset(handle)
            throw StorageError.sqlite(code, db: db, statement: sql)
        }
    }

    /// Binds `values`, steps to the end ignoring rows, and resets. Returns the number of rows changed.
    @discardableResult
    public func run(_ values: [SQLiteValue] = []) throws -> Int {
        try bind(values)
        defer { sqlite3_reset(handle) }
        while try step() {}
        return Int(sqlite3_changes(db))
    }

    /// Makes the statement ready to run again; bindings are kept.
    public func reset() {
        sqlite3_reset(handle)
    }

    // MARK: Reading the current row

    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func columnName(_ index: Int32) -> String {
        sqlite3_column_name(handle, index).map { String(cString: $0) } ?? ""
    }

    /// The 0-based index of the column with this name (as written in the SELECT), or `nil`.
    public func columnIndex(named name: String) -> Int32? {
        if columnIndexes == nil {
            var map: [String: Int32] = [:]
            for i in 0..<columnCount where map[columnName(i)] == nil { map[columnName(i)] = i }
            columnIndexes = map
        }
        return columnIndexes?[name]
    }

    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// The column as an integer (SQLite converts; NULL reads as 0).
    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// The column as a real (SQLite converts; NULL reads as 0).
    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// The column as text, or `nil` for NULL. Embedded NUL characters are kept.
    public func string(_ index: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The column as bytes, or `nil` for NULL. An empty blob reads as `[]`.
    public func blob(_ index: Int32) -> [UInt8]? {
        if isNull(index) { return nil }
        let pointer = sqlite3_column_blob(handle, index)
        let count = Int(sqlite3_column_bytes(handle, index))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The column in its own storage class.
    public func value(_ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: .integer(int64(index))
        case SQLITE_FLOAT: .real(double(index))
        case SQLITE_TEXT: .text(string(index) ?? "")
        case SQLITE_BLOB: .blob(blob(index) ?? [])
        default: .null
        }
    }
}
