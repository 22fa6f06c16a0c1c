import MailSyncStorage

/// Which placement epoch this node's copy of each company belongs to (`fleet_companies`).
///
/// A node serves a company only from a copy of the epoch the placement names: a copy it made
/// (created or claimed, epoch 1 or the claim's) or restored on arrival. A copy left from an
/// earlier stay (the company moved away and back) is older than the placement and is replaced
/// from the bucket before anything reads it.
package enum FleetCompanyRecords {
    /// The epoch of this node's copy, nil when it has none recorded.
    package static func epoch(_ db: SQLiteConnection, company: String) throws -> Int64? {
        try db.scalar("SELECT epoch FROM fleet_companies WHERE company = ?", [.text(company)])?.int64
    }

    /// Records that this node's copy belongs to `epoch`.
    package static func record(_ db: SQLiteConnection, company: String, epoch: Int64) throws {
        try db.run(
            "INSERT INTO fleet_companies(company, epoch) VALUES (?, ?) ON CONFLICT(company) DO UPDATE SET epoch = excluded.epoch",
            [.text(company), .integer(epoch)])
    }
}
