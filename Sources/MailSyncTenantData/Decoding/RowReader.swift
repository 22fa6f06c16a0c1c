import MailSyncCoding
import MailSyncStorage

/// Reads one row of one table by column name, refusing what the table's schema does not allow.
///
/// Every accessor throws ``TenantDataError`` of kind `corruptRow` naming the table, the column and
/// the row (the value of its `id` column, or `seq`, when the query selected one) for a missing
/// column, a NULL where the column is required, a value of the wrong type or out of range, and an
/// enum value this build does not know. Nothing is replaced by a default: a bad row is reported, not
/// hidden. Optional accessors (`optionalString`, …) accept NULL and nothing else.
package struct RowReader: Sendable {
    package let row: Row
    package let table: String

    package init(_ row: Row, table: String) {
        self.row = row
        self.table = table
    }

    /// The row's key for error messages: its `id`, else its `seq`, else nil.
    private var key: String? {
        if let id = row["id"]?.string { return String(id.prefix(80)) }
        if let seq = row["seq"]?.int64 { return String(seq) }
        return nil
    }

    package func corrupt(_ column: String, _ problem: String) -> TenantDataError {
        .corruptRow(table: table, column: column, row: key, problem)
    }

    private func value(_ column: String) throws -> SQLiteValue {
        guard let value = row[column] else { throw corrupt(column, "is not in the query's result") }
        return value
    }

    package func string(_ column: String) throws -> String {
        guard let text = try optionalString(column) else { throw corrupt(column, "is NULL; it must be text") }
        return text
    }

    package func optionalString(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let text): return text
        default: throw corrupt(column, "is not text")
        }
    }

    package func int64(_ column: String) throws -> Int64 {
        guard let number = try optionalInt64(column) else { throw corrupt(column, "is NULL; it must be an integer") }
        return number
    }

    package func optionalInt64(_ column: String) throws -> Int64? {
        switch try value(column) {
        case .null: return nil
        case .integer(let number): return number
        default: throw corrupt(column, "is not an integer")
        }
    }

    /// An integer that fits `T` (e.g. `UInt32` for a count or a port).
    package func integer<T: FixedWidthInteger>(_ column: String, as type: T.Type = T.self) throws -> T {
        let number = try int64(column)
        guard let value = T(exactly: number) else { throw corrupt(column, "is \(number), out of range for \(T.self)") }
        return value
    }

    /// 0 or 1.
    package func bool(_ column: String) throws -> Bool {
        switch try int64(column) {
        case 0: return false
        case 1: return true
        case let other: throw corrupt(column, "is \(other); it must be 0 or 1")
        }
    }

    package func optionalBytes(_ column: String) throws -> [UInt8]? {
        switch try value(column) {
        case .null: return nil
        case .blob(let bytes): return bytes
        default: throw corrupt(column, "is not a blob")
        }
    }

    /// Microseconds since the Unix epoch.
    package func timestamp(_ column: String) throws -> Timestamp {
        Timestamp(microsecondsSinceEpoch: try int64(column))
    }

    package func optionalTimestamp(_ column: String) throws -> Timestamp? {
        try optionalInt64(column).map { Timestamp(microsecondsSinceEpoch: $0) }
    }

    /// A domain enum by its stored code; a value that is not text (such as a number an unmigrated
    /// file kept) or a code this build does not know is a corrupt row.
    package func value<E: StoredEnum>(_ column: String, as type: E.Type = E.self) throws -> E {
        let stored: String
        switch try value(column) {
        case .text(let text): stored = text
        case .null: throw corrupt(column, "is NULL, not a \(E.storedName)")
        case .integer(let number): throw corrupt(column, "is the number \(number), not a known \(E.storedName) code")
        default: throw corrupt(column, "is not text, so not a known \(E.storedName) code")
        }
        guard let value = E(stored: stored) else {
            throw corrupt(column, "is '\(stored.prefix(40))', not a known \(E.storedName)")
        }
        return value
    }
}
