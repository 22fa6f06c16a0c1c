import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage

/// Checking and storing the CRM's leads and opportunities in a company's database.
///
/// A lead's addresses are stored lower-cased (whole address), which is how the sync engine matches
/// mail to leads; an update replaces the lead's whole address set.
enum LeadRecords {
    static let maxAddresses = 50
    static let maxNameLength = 200

    /// A lead that passed validation, ready to store.
    struct Upsert: Sendable {
        let id: String
        let name: String
        let companyName: String
        let addresses: [String]
        let updatedAt: Int64
    }

    /// The lead, checked and normalized, or why it is rejected (naming the field).
    static func validate(_ lead: Lead, now: Timestamp) -> Result<Upsert, RPCError> {
        do {
            try Validate.identifier(lead.id, "id")
            try Validate.length(lead.name, "name", max: maxNameLength)
            try Validate.length(lead.companyName, "company_name", max: maxNameLength)
            guard !lead.emailAddresses.isEmpty else {
                throw RPCError(.invalidArgument, "a lead needs at least one email address (email_addresses)")
            }
            guard lead.emailAddresses.count <= maxAddresses else {
                throw RPCError(.invalidArgument, "email_addresses must have at most \(maxAddresses) addresses, got \(lead.emailAddresses.count)")
            }
            var seen = Set<String>()
            var addresses: [String] = []
            for (i, address) in lead.emailAddresses.enumerated() {
                let normalized = try Validate.email(address, "email_addresses[\(i)]").lowercased()
                if seen.insert(normalized).inserted { addresses.append(normalized) }
            }
            let updatedAt = lead.updatedAt == .epoch ? now : lead.updatedAt
            return .success(Upsert(id: lead.id, name: lead.name, companyName: lead.companyName, addresses: addresses,
                                   updatedAt: updatedAt.microsecondsSinceEpoch))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(.invalidArgument, "\(error)"))
        }
    }

    /// Creates or updates `leads` with statements prepared once per connection. Call it inside a
    /// write transaction. Returns how many were created and how many updated.
    ///
    /// Every address a lead did not have before (a new lead's, or one added to a lead) is queued
    /// for retro-match (``RetroMatchStore``): each mailbox's next run puts that lead's past mail
    /// on its timeline. An update that keeps a lead's addresses queues nothing.
    static func upsert(_ db: SQLiteConnection, _ leads: [Upsert], now: Int64) throws -> (created: Int, updated: Int) {
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

    static func exists(_ db: SQLiteConnection, id: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM leads WHERE id = ?", [.text(id)]) != nil
    }

    /// Deletes a lead with its addresses, opportunities (and links to them) and timeline. Returns
    /// how many timeline entries went with it.
    static func delete(_ db: SQLiteConnection, id: String) throws -> Int {
        let removed = try TimelineRecords.deleteEntries(db, leadID: id)
        try db.run("DELETE FROM opportunity_links WHERE opportunity_id IN (SELECT id FROM opportunities WHERE lead_id = ?)", [.text(id)])
        try db.run("DELETE FROM leads WHERE id = ?", [.text(id)])
        return removed
    }

    // MARK: Opportunities

    /// An opportunity that passed validation.
    struct OpportunityUpsert: Sendable {
        let id: String
        let leadID: String
        let name: String
        let status: OpportunityStatus
        let updatedAt: Int64
    }

    static func validate(_ opportunity: Opportunity, now: Timestamp) -> Result<OpportunityUpsert, RPCError> {
        do {
            try Validate.identifier(opportunity.id, "id")
            try Validate.identifier(opportunity.leadId, "lead_id")
            let name = opportunity.name.trimmingCharacters(in: .whitespaces)
            try Validate.required(name, "name")
            try Validate.length(name, "name", max: maxNameLength)
            guard [.open, .won, .lost].contains(opportunity.status) else {
                throw RPCError(.invalidArgument, "status must be OPEN, WON or LOST, got \(opportunity.status)")
            }
            let updatedAt = opportunity.updatedAt == .epoch ? now : opportunity.updatedAt
            return .success(OpportunityUpsert(id: opportunity.id, leadID: opportunity.leadId, name: name, status: opportunity.status,
                                              updatedAt: updatedAt.microsecondsSinceEpoch))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(.invalidArgument, "\(error)"))
        }
    }

    /// Creates or updates one opportunity whose lead exists. Returns whether it was created.
    static func upsert(_ db: SQLiteConnection, _ opportunity: OpportunityUpsert) throws -> Bool {
        let existed = try db.scalar("SELECT 1 FROM opportunities WHERE id = ?", [.text(opportunity.id)]) != nil
        try db.run("""
            INSERT INTO opportunities(id, lead_id, name, status, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET lead_id = excluded.lead_id, name = excluded.name, status = excluded.status,
                updated_at = excluded.updated_at
            """, [.text(opportunity.id), .text(opportunity.leadID), .text(opportunity.name),
                  .integer(Int64(opportunity.status.rawValue)), .integer(opportunity.updatedAt)])
        return !existed
    }
}
