import MailSyncStorage

/// Control schema version 5: what a fleet needs to replicate the control database through etcd
/// (``ControlReplica``).
///
/// - `control_replica`: one row. `publishing` is 1 once the node runs in a fleet (single-node
///   servers leave it 0 and record nothing); `applying` is 1 only inside a transaction that
///   applies rows read from etcd, so those do not go back out; `revision` is the etcd revision
///   the mirror has applied up to.
/// - `control_outbox`: the rows changed locally and not yet published, in order (table and
///   primary key only: the publisher reads the row as it is when it publishes).
/// - `fleet_companies`: which placement epoch of each company this node's copy belongs to
///   (``FleetCompanyRecords``; never replicated: it is about this node's files).
/// - Triggers on `plans`, `companies` and `api_keys` fill the outbox in the same transaction as
///   the change, so no committed change can be missed by a crash between commit and publish.
enum ControlMigration5 {
    static let migration = Migration(version: 5, name: "fleet replication outbox") { db in
        var sql = """
            CREATE TABLE control_replica(
                id INTEGER PRIMARY KEY CHECK (id = 1),
                publishing INTEGER NOT NULL DEFAULT 0,
                applying INTEGER NOT NULL DEFAULT 0,
                revision INTEGER NOT NULL DEFAULT 0);
            INSERT INTO control_replica(id) VALUES (1);
            CREATE TABLE control_outbox(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                tbl TEXT NOT NULL,
                key TEXT NOT NULL);
            CREATE TABLE fleet_companies(
                company TEXT PRIMARY KEY,
                epoch INTEGER NOT NULL) WITHOUT ROWID;

            """
        for table in ControlReplica.Table.allCases {
            for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
                sql += """
                    CREATE TRIGGER control_outbox_\(table.rawValue)_\(event.lowercased()) AFTER \(event) ON \(table.rawValue)
                    WHEN (SELECT publishing = 1 AND applying = 0 FROM control_replica WHERE id = 1)
                    BEGIN
                        INSERT INTO control_outbox(tbl, key) VALUES ('\(table.rawValue)', CAST(\(row).\(table.primaryKey) AS TEXT));
                    END;

                    """
            }
        }
        try db.execute(sql)
    }
}
