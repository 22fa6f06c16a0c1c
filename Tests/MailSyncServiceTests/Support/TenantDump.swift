import Foundation
import MailSyncService
import MailSyncStorage

/// A logical dump of everything one company owns, to prove a call left it unchanged: every table of
/// the company's own database (schema included, `sqlite_sequence` too, so an insert undone by a
/// delete still shows), each table's rows in primary-key order, and the company's rows in the
/// control database (its `companies` row, its API keys).
///
/// Read through the server's storage layer (committed data only; the server keeps running).
/// One line per row, `table: column=value|…`; values are written out exactly: integers as
/// numbers, reals by their bits, text quoted, blobs in hex.
enum TenantDump {
    static func dump(_ environment: ServiceEnvironment, company: String) async throws -> String {
        guard let tenant = TenantID(validating: company) else { throw DumpError("'\(company)' is not a tenant id") }
        var out = try await environment.tenants.withTenant(tenant) { lease in
            try await lease.read { db in try dumpDatabase(db) }
        }
        out += try await environment.control.read { db in
            var text = ""
            for (table, column) in [("companies", "id"), ("api_keys", "company_id")] {
                let order = try primaryKey(db, table).joined(separator: ", ")
                for row in try db.query("SELECT * FROM \(table) WHERE \(column) = ? ORDER BY \(order)", [.text(company)]) {
                    text += line("control.\(table)", row)
                }
            }
            return text
        }
        return out
    }

    /// Every table of `db`, by name, each with its rows in primary-key order (rowid when none).
    static func dumpDatabase(_ db: SQLiteConnection) throws -> String {
        var text = ""
        for row in try db.query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name") {
            text += line("sqlite_master", row)
        }
        let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0[0].string }
        for table in tables {
            let key = try primaryKey(db, table)
            let order = key.isEmpty ? (table == "sqlite_sequence" ? "name" : "rowid") : key.joined(separator: ", ")
            for row in try db.query("SELECT * FROM \"\(table)\" ORDER BY \(order)") { text += line(table, row) }
        }
        return text
    }

    /// The table's primary-key columns, in key order (empty for a rowid table without one).
    private static func primaryKey(_ db: SQLiteConnection, _ table: String) throws -> [String] {
        try db.query("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", [.text(table)])
            .compactMap { $0[0].string.map { "\"\($0)\"" } }
    }

    /// The rows of two dumps that differ (at most `limit` each way): a row whose first column is
    /// in both shows the columns that changed, `column: before → after`; others are shown whole,
    /// cut to 300 characters.
    static func difference(_ before: String, _ after: String, limit: Int = 3) -> String {
        let (old, new) = (before.split(separator: "\n").map(String.init), after.split(separator: "\n").map(String.init))
        let (oldSet, newSet) = (Set(old), Set(new))
        var gone = old.filter { !newSet.contains($0) }
        var added = new.filter { !oldSet.contains($0) }
        var changed: [String] = []
        for row in gone {
            let fields = row.components(separatedBy: "|")
            guard let match = added.first(where: { $0.components(separatedBy: "|").first == fields.first }) else { continue }
            let others = match.components(separatedBy: "|")
            let differing = zip(fields, others).filter { $0 != $1 }.map { "\($0) → \($1.split(separator: "=", maxSplits: 1).last ?? "")" }
            changed.append("\(fields.first ?? ""): \(differing.joined(separator: ", "))")
            gone.removeAll { $0 == row }
            added.removeAll { $0 == match }
        }
        let cut = { (rows: [String]) in rows.prefix(limit).map { String($0.prefix(300)) } }
        return "rows changed: \(changed.prefix(limit)), rows gone: \(cut(gone)), rows new: \(cut(added))"
    }

    /// `table: column=value|column=value|…`
    private static func line(_ table: String, _ row: Row) -> String {
        table + ": " + zip(row.columns, row.values).map { column, value in
            let text: String = switch value {
            case .integer(let v): String(v)
            case .real(let v): "r" + String(v.bitPattern, radix: 16)
            case .text(let v): "'" + v.replacingOccurrences(of: "'", with: "''") + "'"
            case .blob(let v): "x'" + v.map { String(format: "%02x", $0) }.joined() + "'"
            case .null: "NULL"
            }
            return "\(column)=\(text)"
        }.joined(separator: "|") + "\n"
    }

    struct DumpError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
