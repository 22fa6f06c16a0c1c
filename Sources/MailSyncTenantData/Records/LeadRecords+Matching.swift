import MailSyncStorage

/// What the sync engine reads of leads to match mail: the leads behind addresses and their open
/// opportunities. No query when the input is empty.
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

    /// The open opportunities of each of `leadIDs`, by lead, in id order.
    package static func openOpportunities(_ db: SQLiteConnection, leadIDs: [String]) throws -> [String: [String]] {
        guard !leadIDs.isEmpty else { return [:] }
        var opportunities: [String: [String]] = [:]
        for row in try db.query("""
            SELECT lead_id, id FROM opportunities WHERE status = ? AND lead_id IN (SELECT value FROM json_each(?)) ORDER BY id
            """, [.text(OpportunityStatus.open.stored), .text(SQLJSON.array(leadIDs))]) {
            let r = RowReader(row, table: "opportunities")
            opportunities[try r.string("lead_id"), default: []].append(try r.string("id"))
        }
        return opportunities
    }
}
