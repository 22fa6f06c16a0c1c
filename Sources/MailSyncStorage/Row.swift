/// One result row, copied out of SQLite, readable by column index or name.
///
/// ``SQLiteConnection/query(_:_:)`` returns these. For large results read columns straight from
/// the ``Statement`` inside ``SQLiteConnection/withStatement(_:_:)`` instead: nothing is copied.
public struct Row: Sendable, Hashable {
    /// Column names as written in the SELECT (shared by every row of one query).
    public let columns: [String]
    /// Values, in column order.
    public let values: [SQLiteValue]

    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(index: Int) -> SQLiteValue { values[index] }

    /// The value of the first column with this name, or `nil` if there is no such column.
    public subscript(name: String) -> SQLiteValue? {
        columns.firstIndex(of: name).map { values[$0] }
    }
}
