import MailSyncStorage

/// The control database's side of a fleet's replication through etcd: which tables travel, the
/// outbox of local changes, and applying rows that other nodes published.
///
/// Every node keeps its own control database (authentication and company reads stay local and
/// fast); etcd holds the fleet's copy of the replicated tables, one record per row. A node
/// publishes its local changes from the outbox (filled by triggers, ``ControlMigration5``) and
/// applies the records others published. Conflicts are settled per row by the last publish: a
/// row with a change of this node's still in the outbox is not overwritten by an older record
/// (it is published next and wins).
///
/// What is applied is checked here, whatever etcd held: column names must be the table's own
/// (read from the schema, never from the record), values keep their SQLite storage classes, and
/// a record for a table not in ``Table`` is refused.
package enum ControlReplica {
    /// The replicated tables, in the order their rows must be applied (a company's plan before the
    /// company, a company before its keys).
    package enum Table: String, CaseIterable, Sendable {
        case plans
        case companies
        case apiKeys = "api_keys"

        /// The primary key's column.
        package var primaryKey: String {
            switch self {
            case .plans: "plan"
            case .companies, .apiKeys: "id"
            }
        }

        /// Position in ``allCases`` (apply order).
        package var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    }

    /// One local change waiting to be published: the row as it is now, or nil when it was deleted.
    package struct Pending: Sendable, Equatable {
        package var seq: Int64
        package var table: Table
        package var key: String
        package var row: Row?
    }

    /// Whether this control database publishes its changes (it runs in a fleet).
    package static func isPublishing(_ db: SQLiteConnection) throws -> Bool {
        try db.scalar("SELECT publishing FROM control_replica WHERE id = 1")?.int64 == 1
    }

    /// Turns publishing on; the first time, puts every existing row in the outbox, so a
    /// single-node control database joining a fleet publishes all it has (the migration into
    /// etcd). Returns how many rows were queued. Call inside a write transaction.
    @discardableResult
    package static func startPublishing(_ db: SQLiteConnection) throws -> Int {
        guard try !isPublishing(db) else { return 0 }
        try db.run("UPDATE control_replica SET publishing = 1 WHERE id = 1")
        var queued = 0
        for table in Table.allCases {
            queued += try db.run(
                "INSERT INTO control_outbox(tbl, key) SELECT ?, CAST(\(table.primaryKey) AS TEXT) FROM \(table.rawValue) ORDER BY rowid",
                [.text(table.rawValue)])
        }
        return queued
    }

    /// Up to `limit` outbox entries, oldest first, each with its row as it is now.
    package static func pending(_ db: SQLiteConnection, limit: Int) throws -> [Pending] {
        let entries = try db.query("SELECT seq, tbl, key FROM control_outbox ORDER BY seq LIMIT ?", [.integer(Int64(max(1, limit)))])
        return try entries.map { entry in
            guard let seq = entry["seq"]?.int64, let name = entry["tbl"]?.string, let table = Table(rawValue: name),
                let key = entry["key"]?.string
            else { throw ControlReplicaError("control_outbox holds an entry that is not a replicated row") }
            let row = try db.query("SELECT * FROM \(table.rawValue) WHERE CAST(\(table.primaryKey) AS TEXT) = ?", [.text(key)]).first
            return Pending(seq: seq, table: table, key: key, row: row)
        }
    }

    /// Removes the outbox entries up to `seq` (they were published).
    package static func acknowledge(_ db: SQLiteConnection, upTo seq: Int64) throws {
        try db.run("DELETE FROM control_outbox WHERE seq <= ?", [.integer(seq)])
    }

    /// Entries waiting to be published.
    package static func backlog(_ db: SQLiteConnection) throws -> Int {
        Int(try db.scalar("SELECT count(*) FROM control_outbox")?.int64 ?? 0)
    }

    /// The etcd revision applied up to.
    package static func appliedRevision(_ db: SQLiteConnection) throws -> Int64 {
        try db.scalar("SELECT revision FROM control_replica WHERE id = 1")?.int64 ?? 0
    }

    /// One row read from etcd: its table, key, and the row (nil: deleted).
    package struct Incoming: Sendable, Equatable {
        package var table: Table
        package var key: String
        package var row: Row?

        package init(table: Table, key: String, row: Row?) {
            self.table = table
            self.key = key
            self.row = row
        }
    }

    /// Applies rows other nodes published, in `rows`' order, and records `revision` as applied;
    /// one transaction. A row with a local change still in the outbox is skipped (the local
    /// change is published next). Returns how many rows changed. Call inside a write
    /// transaction (the control database's `write`): all of `rows` or none.
    ///
    /// - Throws: ``ControlReplicaError`` for a record whose columns are not the table's or whose
    ///   key does not match its primary key column; the transaction rolls back, nothing applied.
    package static func apply(_ db: SQLiteConnection, _ rows: [Incoming], revision: Int64) throws -> Int {
        do {
            try db.run("UPDATE control_replica SET applying = 1 WHERE id = 1")
            var changed = 0
            for incoming in rows {
                let table = incoming.table
                let waiting = try db.scalar(
                    "SELECT count(*) FROM control_outbox WHERE tbl = ? AND key = ?", [.text(table.rawValue), .text(incoming.key)])
                if (waiting?.int64 ?? 0) > 0 { continue }
                guard let row = incoming.row else {
                    changed += try db.run("DELETE FROM \(table.rawValue) WHERE CAST(\(table.primaryKey) AS TEXT) = ?", [.text(incoming.key)])
                    continue
                }
                let known = Set(try db.query("SELECT name FROM pragma_table_info(?)", [.text(table.rawValue)]).compactMap { $0["name"]?.string })
                guard !row.columns.isEmpty, Set(row.columns).isSubset(of: known), Set(row.columns).count == row.columns.count else {
                    throw ControlReplicaError("a replicated \(table.rawValue) row names columns that table does not have")
                }
                guard let keyValue = row[table.primaryKey], Self.text(of: keyValue) == incoming.key else {
                    throw ControlReplicaError("a replicated \(table.rawValue) row's \(table.primaryKey) is not its key \(incoming.key)")
                }
                let columns = row.columns.map { "\"\($0)\"" }
                let updates = row.columns.filter { $0 != table.primaryKey }.map { "\"\($0)\" = excluded.\"\($0)\"" }
                let sql = "INSERT INTO \(table.rawValue)(\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
                    + (updates.isEmpty ? " ON CONFLICT DO NOTHING" : " ON CONFLICT(\(table.primaryKey)) DO UPDATE SET \(updates.joined(separator: ", "))")
                changed += try db.run(sql, row.values)
            }
            try db.run("UPDATE control_replica SET applying = 0, revision = max(revision, ?) WHERE id = 1", [.integer(revision)])
            return changed
        }
    }

    /// A primary key value as the text the outbox and etcd keys use.
    package static func text(of value: SQLiteValue) -> String? {
        switch value {
        case .text(let text): text
        case .integer(let number): String(number)
        default: nil
        }
    }
}
