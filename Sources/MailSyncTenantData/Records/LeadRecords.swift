import Foundation
import MailSyncStorage

/// Checking and storing the CRM's leads and opportunities in a company's database.
///
/// A lead's addresses are stored lower-cased (whole address), which is how the sync engine matches
/// mail to leads; an update replaces the lead's whole address set. Checking what a CRM sent is the
/// service's (it knows the wire fields); these store what passed.
package enum LeadRecords {
    package static let maxAddresses = 50
    package static let maxNameLength = 200

    /// A lead that passed validation, ready to store.
    package struct Upsert: Sendable {
        package let id: String
        package let name: String
        package let companyName: String
        package let addresses: [String]
        package let updatedAt: Int64

        package init(id: String, name: String, companyName: String, addresses: [String], updatedAt: Int64) {
            self.id = id
            self.name = name
            self.companyName = companyName
            self.addresses = addresses
            self.updatedAt = updatedAt
        }
    }

    /// Creates or updates `leads` with statements prepared once per connection. Call it inside a
    /// write transaction. Returns how many were created and how many updated.
    ///
    /// Every address a lead did not have before (a new lead's, or one added to a lead) is queued
    /// for retro-match (``RetroMatchStore``): each mailbox's next run puts that lead's past mail
    /// on its timeline. An update that keeps a lead's addresses queues nothing.
    package static func upsert(_ db: SQLiteConnection, _ leads: [Upsert], now: Int64) throws -> (created: Int, updated: Int) {
        var created = 0
        var updated = 0
        var added: [String] = []
        try db.withStatement("SELECT address FROM lead_addresses WHERE lead_id = ?") { previous in
            try db.withStatement("SELECT 1 FROM leads WHERE id = ?") { exists in
                try db.withStatement("""
                    INSERT INTO leads(id, name, company_name, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, company_name = excluded.company_name,
                        updated_at = excluded.updated_at
                    """) { write in
                    try db.withStatement("DELETE FROM lead_addresses WHERE lead_id = ?") { clearAddresses in
                        try db.withStatement("INSERT OR IGNORE INTO lead_addresses(address, lead_id) VALUES (?, ?)") { addAddress in
                            for lead in leads {
                                exists.reset()
                                try exists.bind(lead.id, at: 0)
                                let existed = try exists.step()
                                exists.reset()
                                try write.bind(lead.id, at: 0)
                                try write.bind(lead.name, at: 1)
                                try write.bind(lead.companyName, at: 2)
                                try write.bind(lead.updatedAt, at: 3)
                                while try write.step() {}
                                write.reset()
                                var before: Set<String> = []
                                if existed {
                                    try previous.bind(lead.id, at: 0)
                                    while try previous.step() { if let address = previous.string(0) { before.insert(address) } }
                                    previous.reset()
                                    try clearAddresses.bind(lead.id, at: 0)
                                    while try clearAddresses.step() {}
                                    clearAddresses.reset()
                                    updated += 1
                                } else {
                                    created += 1
                                }
                                for address in lead.addresses {
                                    if !before.contains(address) { added.append(address) }
                                    try addAddress.bind(address, at: 0)
                                    try addAddress.bind(lead.id, at: 1)
                                    while try addAddress.step() {}
                                    addAddress.reset()
                                }
                            }
                        }
                    }
                }
            }
        }
        try RetroMatchStore.enqueue(db, added, now: now)
        return (created, updated)
    }

    package static func exists(_ db: SQLiteConnection, id: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM leads WHERE id = ?", [.text(id)]) != nil
    }

    /// Deletes a lead with its addresses, opportunities (and links to them) and timeline. Returns
    /// how many timeline entries went with it.
    package static func delete(_ db: SQLiteConnection, id: String) throws -> Int {
        let removed = try TimelineRecords.deleteEntries(db, leadID: id)
        try db.run("DELETE FROM opportunity_links WHERE opportunity_id IN (SELECT id FROM opportunities WHERE lead_id = ?)", [.text(id)])
        try db.run("DELETE FROM leads WHERE id = ?", [.text(id)])
        return removed
    }

    // MARK: Opportunities

    /// An opportunity that passed validation.
    package struct OpportunityUpsert: Sendable {
        package let id: String
        package let leadID: String
        package let name: String
        package let status: OpportunityStatus
        package let updatedAt: Int64

        package init(id: String, leadID: String, name: String, status: OpportunityStatus, updatedAt: Int64) {
            self.id = id
            self.leadID = leadID
            self.name = name
            self.status = status
            self.updatedAt = updatedAt
        }
    }

    /// Creates or updates one opportunity whose lead exists. Returns whether it was created.
    package static func upsert(_ db: SQLiteConnection, _ opportunity: OpportunityUpsert) throws -> Bool {
        let existed = try db.scalar("SELECT 1 FROM opportunities WHERE id = ?", [.text(opportunity.id)]) != nil
        try db.run("""
            INSERT INTO opportunities(id, lead_id, name, status, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET lead_id = excluded.lead_id, name = excluded.name, status = excluded.status,
                updated_at = excluded.updated_at
            """, [.text(opportunity.id), .text(opportunity.leadID), .text(opportunity.name),
                  .text(opportunity.status.stored), .integer(opportunity.updatedAt)])
        return !existed
    }
}

extension LeadRecords {
    /// An opportunity's status (`opportunities.status`).
    package enum OpportunityStatus: String, StoredEnum {
        case open
        case won
        case lost

        package static let storedName = "opportunity status"
    }
}

extension LeadRecords {
    /// How many leads the company has, and how many addresses they hold (the quotas' counts).
    package static func counts(_ db: SQLiteConnection) throws -> (leads: Int64, addresses: Int64) {
        let row = try db.query("SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM lead_addresses) AS addresses")
        guard let row = row.first else { return (0, 0) }
        let r = RowReader(row, table: "leads")
        return (try r.int64("leads"), try r.int64("addresses"))
    }
}
