import Foundation
import MailSyncService
import MailSyncStorage

/// A logical dump of everything one company owns, to prove a call left it unchanged: every table of
/// the company's own database (schema included, `sqlite_sequence` too, so an insert undone by a
/// delete still shows), each table's rows in primary-key order, and the company's rows in the
/// control database (its `companies` row, its API keys).
///
/// Read through the server's storage layer (committed data only; the server keeps running).
/// One line per row, `table: value|value|…`; values are written out exactly: integers as
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
                    text += "control.\(table): " + line(row)
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
            text += "sqlite_master: " + line(row)
        }
        let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0[0].string }
        for table in tables {
            let key = try primaryKey(db, table)
            let order = key.isEmpty ? (table == "sqlite_sequence" ? "name" : "rowid") : key.joined(separator: ", ")
            for row in try db.query("SELECT * FROM \"\(table)\" ORDER BY \(order)") { text += "\(table): " + line(row) }
        }
        return text
    }

    /// The table's primary-key columns, in key order (empty for a rowid table without one).
    private static func primaryKey(_ db: SQLiteConnection, _ table: String) throws -> [String] {
        try db.query("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", [.text(table)])
            .compactMap { $0[0].string.map { "\"\($0)\"" } }
    }

    /// The rows of two dumps that differ (at most `limit` each way, each cut to 200 characters).
    static func difference(_ before: String, _ after: String, limit: Int = 3) -> String {
        let (old, new) = (before.split(separator: "\n"), after.split(separator: "\n"))
        let (oldSet, newSet) = (Set(old), Set(new))
        let gone = old.filter { !newSet.contains($0) }.prefix(limit).map { String($0.prefix(200)) }
        let added = new.filter { !oldSet.contains($0) }.prefix(limit).map { String($0.prefix(200)) }
        return "rows gone: \(gone), rows new: \(added)"
    }

    private static func line(_ row: Row) -> String {
        row.values.map { value in
            switch value {
            case .integer(let v): String(v)
            case .real(let v): "r" + String(v.bitPattern, radix: 16)
            case .text(let v): "'" + v.replacingOccurrences(of: "'", with: "''") + "'"
            case .blob(let v): "x'" + v.map { String(format: "%02x", $0) }.joined() + "'"
            case .null: "NULL"
            }
        }.joined(separator: "|") + "\n"
    }

    struct DumpError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
