import MailSyncStorage

/// Statements whose `VALUES` list holds many rows, split so that no statement binds more than
/// SQLite's variable limit.
///
/// A statement is `head`, then `(?, …), (?, …), …` (one group of `columns` per row), then `tail`
/// (separated by spaces);
/// `trailing` is bound after the rows' values (for `?`s in `tail`). Statements of the full size
/// (``maxVariables`` divided by the row width, minus `trailing`) are cached by the connection and
/// reused; the last, shorter one is prepared for the call alone (caching every length would evict
/// the connection's useful statements). Nothing runs when `values` is empty. A failing statement
/// throws its `StorageError`; the statements before it stay applied, so call this inside the
/// caller's transaction, which then rolls back.
package enum MultiRowStatement {
    /// The most `?`s one statement binds: SQLite's `SQLITE_MAX_VARIABLE_NUMBER` default since 3.32
    /// (32,766), which the bundled 3.40 keeps.
    package static let maxVariables = 32_766

    /// Runs the statements to completion, ignoring rows. `values.count` must be a multiple of
    /// `columns` (else a precondition failure: a programming error).
    package static func run(
        _ db: SQLiteConnection, head: String, columns: Int, values: [SQLiteValue], tail: String = "", trailing: [SQLiteValue] = []
    ) throws {
        try forEach(db, head: head, columns: columns, values: values, tail: tail, trailing: trailing) { statement in
            while try statement.step() {}
        }
    }

    /// Runs the statements and copies out every row of each, in order.
    package static func query(
        _ db: SQLiteConnection, head: String, columns: Int, values: [SQLiteValue], tail: String = "", trailing: [SQLiteValue] = []
    ) throws -> [Row] {
        var rows: [Row] = []
        try forEach(db, head: head, columns: columns, values: values, tail: tail, trailing: trailing) { statement in
            let count = statement.columnCount
            let names = (0..<count).map { statement.columnName($0) }
            while try statement.step() {
                rows.append(Row(columns: names, values: (0..<count).map { statement.value($0) }))
            }
        }
        return rows
    }

    private static func forEach(
        _ db: SQLiteConnection, head: String, columns: Int, values: [SQLiteValue], tail: String, trailing: [SQLiteValue],
        _ body: (Statement) throws -> Void
    ) throws {
        precondition(columns > 0 && values.count % columns == 0, "a multi-row statement's values must fill whole rows")
        let rows = values.count / columns
        let perStatement = max(1, (maxVariables - trailing.count) / columns)
        var start = 0
        while start < rows {
            let count = min(perStatement, rows - start)
            let sql = head + " " + placeholders(rows: count, columns: columns) + " " + tail
            let bound = Array(values[(start * columns)..<((start + count) * columns)]) + trailing
            if count == perStatement {
                try db.withStatement(sql) { statement in
                    try statement.bind(bound)
                    try body(statement)
                }
            } else {
                let statement = try db.prepare(sql)
                try statement.bind(bound)
                try body(statement)
            }
            start += count
        }
    }

    /// `(?, ?), (?, ?)` for 2 rows of 2 columns.
    static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }
}
