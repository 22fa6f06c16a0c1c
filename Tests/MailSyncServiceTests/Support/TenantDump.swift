import Foundation
import MailSyncService
import MailSyncStorage

/// A logical dump of everything one company owns, to prove a call left it unchanged: every table of
/// the company's own database (schema included, `sqlite_sequence` too, so an insert undone by a
/// delete still shows), each table's rows in primary-key order, and the company's rows in the
/// control database (its `companies` row, its API keys).
///
/// Read through the server's storage layer (committed data only; the server keeps running).
/// Values are written out exactly: integers and reals as numbers, text quoted, blobs in hex.
enum TenantDump {
    static func dump(_ environment: ServiceEnvironment, company: String) async throws -> String {
        guard let tenant = TenantID(validating: company) else { throw DumpError("'\(company)' is not a tenant id") }
        var out = try await environment.tenants.withTenant(tenant) { lease in
            try await lease.read { db in try dumpDatabase(db) }
        }
        out += try await environment.control.read { db in
            var text = ""
            for (table, column) in [("companies", "id"), ("api_keys", "company_id")] {
                text += "control.\(table)\n"
                let order = try primaryKey(db, table).joined(separator: ", ")
                for row in try db.query("SELECT * FROM \(table) WHERE \(column) = ? ORDER BY \(order)", [.text(company)]) {
                    text += line(row)
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
            text += "schema " + line(row)
        }
        let tables = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").compactMap { $0[0].string }
        for table in tables {
            text += "table \(table)\n"
            let key = try primaryKey(db, table)
            let order = key.isEmpty ? (table == "sqlite_sequence" ? "name" : "rowid") : key.joined(separator: ", ")
            for row in try db.query("SELECT * FROM \"\(table)\" ORDER BY \(order)") { text += line(row) }
        }
        return text
    }

    /// The table's primary-key columns, in key order (empty for a rowid table without one).
    private static func primaryKey(_ db: SQLiteConnection, _ table: String) throws -> [String] {
        try db.query("SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", [.text(table)])
            .compactMap { $0[0].string.map { "\"\($0)\"" } }
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
