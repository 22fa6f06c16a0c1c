import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncTenantData

/// Checking what a CRM sent as leads and opportunities (wire fields, named in refusals) before
/// ``LeadRecords`` stores it.
extension LeadRecords {
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

    static func validate(_ opportunity: Opportunity, now: Timestamp) -> Result<OpportunityUpsert, RPCError> {
        do {
            try Validate.identifier(opportunity.id, "id")
            try Validate.identifier(opportunity.leadId, "lead_id")
            let name = opportunity.name.trimmingCharacters(in: .whitespaces)
            try Validate.required(name, "name")
            try Validate.length(name, "name", max: maxNameLength)
            guard let status = LeadRecords.OpportunityStatus(opportunity.status) else {
                throw RPCError(.invalidArgument, "status must be OPEN, WON or LOST, got \(opportunity.status)")
            }
            let updatedAt = opportunity.updatedAt == .epoch ? now : opportunity.updatedAt
            return .success(OpportunityUpsert(id: opportunity.id, leadID: opportunity.leadId, name: name, status: status,
                                              updatedAt: updatedAt.microsecondsSinceEpoch))
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(.invalidArgument, "\(error)"))
        }
    }
}
