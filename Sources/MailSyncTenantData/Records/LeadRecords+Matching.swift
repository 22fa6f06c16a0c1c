import MailSyncStorage

/// What the sync engine reads of leads to match mail: the leads behind addresses. No query when
/// the input is empty.
extension LeadRecords {
    /// The leads behind each of `addresses` (stored lower-cased), by address.
    package static func leadsByAddress(_ db: SQLiteConnection, addresses: [String]) throws -> [String: [String]] {
        guard !addresses.isEmpty else { return [:] }
        var leads: [String: [String]] = [:]
        for row in try db.query(
            "SELECT address, lead_id FROM lead_addresses WHERE address IN (SELECT value FROM json_each(?))",
            [.text(SQLJSON.array(addresses))]) {
            let r = RowReader(row, table: "lead_addresses")
            leads[try r.string("address"), default: []].append(try r.string("lead_id"))
        }
        return leads
    }
}
