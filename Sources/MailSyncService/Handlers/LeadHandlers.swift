import Logging
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// Leads and opportunities pushed by the CRM, and a lead's timeline.
///
/// `UpsertLeads` streams: leads are checked one by one as they arrive (an invalid one is listed in
/// `rejections` and does not stop the others) and written in batches of up to
/// ``batchSize`` per `BEGIN IMMEDIATE` transaction, so an upload of any size holds at most one
/// batch in memory. Batches already committed stay if the stream fails later; the call is
/// idempotent, so sending the whole upload again is safe.
struct LeadHandlers: MailSync.LeadsHandler {
    let env: ServiceEnvironment

    /// Leads written per transaction.
    static let batchSize = 500
    /// Rejections listed one by one; beyond this one more entry counts the rest, so the response
    /// stays small whatever the upload.
    static let maxListedRejections = 1_000
    /// The most opportunities in one request.
    static let maxOpportunities = 10_000
    /// Decompressed body text per timeline page; a page stops early rather than pass it.
    static let bodyBudgetPerPage = 2 << 20

    // MARK: Leads

    func upsertLeads(_ requests: RequestStream<Lead>, context: ServerContext) async throws -> UpsertLeadsResponse {
        let (_, tenant) = try context.tenant()
        let now = env.clock.now()
        var rejections = Rejections()
        var batch: [LeadRecords.Upsert] = []
        batch.reserveCapacity(Self.batchSize)
        var created = 0
        var updated = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let leads = batch
            batch.removeAll(keepingCapacity: true)
            let (maxLeads, maxAddresses) = (env.quotas.maxLeads, env.quotas.maxLeadAddresses)
            let time = now.microsecondsSinceEpoch
            let counts: (created: Int, updated: Int)
            do {
                counts = try await env.write(tenant, "the leads") { db in
                    let counts = try LeadRecords.upsert(db, leads, now: time)
                    // Checked after the batch, inside its transaction: over a limit, it rolls back.
                    let stored = try LeadRecords.counts(db)
                    if counts.created > 0, stored.leads > Int64(maxLeads) {
                        throw QuotaRefusal.leads(limit: maxLeads, kind: "leads")
                    }
                    if stored.addresses > Int64(maxAddresses) {
                        throw QuotaRefusal.leads(limit: maxAddresses, kind: "lead addresses")
                    }
                    return (counts.created, counts.updated)
                }
            } catch let error as RPCError where error.code == .resourceExhausted && error.message.hasPrefix("the company may have at most") {
                env.metrics.quotaRefused("leads")
                throw error
            }
            created += counts.created
            updated += counts.updated
        }
        for try await lead in requests {
            switch LeadRecords.validate(lead, now: now) {
            case .success(let valid):
                batch.append(valid)
                if batch.count >= Self.batchSize { try await flush() }
            case .failure(let error):
                rejections.add(id: lead.id, reason: error.message)
            }
        }
        try await flush()
        var response = UpsertLeadsResponse()
        response.created = UInt32(clamping: created)
        response.updated = UInt32(clamping: updated)
        response.rejections = rejections.listed
        return response
    }

    /// Creates or updates opportunities in one transaction; one whose lead does not exist, or that
    /// fails validation, is listed in `rejections` and the others are stored.
    func upsertOpportunities(_ request: UpsertOpportunitiesRequest, context: ServerContext) async throws -> UpsertOpportunitiesResponse {
        let (_, tenant) = try context.tenant()
        guard request.opportunities.count <= Self.maxOpportunities else {
            throw RPCError(.invalidArgument, "opportunities must have at most \(Self.maxOpportunities) entries, got \(request.opportunities.count); send them in several requests")
        }
        let now = env.clock.now()
        var rejections = Rejections()
        var valid: [LeadRecords.OpportunityUpsert] = []
        for (i, opportunity) in request.opportunities.enumerated() {
            switch LeadRecords.validate(opportunity, now: now) {
            case .success(let checked): valid.append(checked)
            case .failure(let error): rejections.add(id: opportunity.id, reason: "opportunities[\(i)].\(error.message)")
            }
        }
        let checked = valid
        let (created, updated, missingLead) = try await env.write(tenant, "the opportunities") { db in
            var created = 0
            var updated = 0
            var missingLead: [(String, String)] = []
            for opportunity in checked {
                guard try LeadRecords.exists(db, id: opportunity.leadID) else {
                    missingLead.append((opportunity.id, "no lead '\(opportunity.leadID)' (lead_id); upsert the lead first"))
                    continue
                }
                if try LeadRecords.upsert(db, opportunity) { created += 1 } else { updated += 1 }
            }
            return (created, updated, missingLead)
        }
        for (id, reason) in missingLead { rejections.add(id: id, reason: reason) }
        var response = UpsertOpportunitiesResponse()
        response.created = UInt32(clamping: created)
        response.updated = UInt32(clamping: updated)
        response.rejections = rejections.listed
        return response
    }

    /// Deletes a lead with its addresses, opportunities and timeline entries.
    func deleteLead(_ request: DeleteLeadRequest, context: ServerContext) async throws -> DeleteLeadResponse {
        let (_, tenant) = try context.tenant()
        try Validate.identifier(request.leadId, "lead_id")
        let leadID = request.leadId
        let removed = try await env.write(tenant, "the lead deletion") { db in
            guard try LeadRecords.exists(db, id: leadID) else { throw RPCError(.notFound, "no lead '\(leadID)'") }
            return try LeadRecords.delete(db, id: leadID)
        }
        var response = DeleteLeadResponse()
        response.removedTimelineEntries = UInt64(removed)
        return response
    }

    // MARK: Timeline

    /// A lead's entries, newest first. Administrators and company managers read every entry's body;
    /// other roles read the bodies of their own entries and get `body_withheld` on the rest.
    func listLeadTimeline(_ request: ListLeadTimelineRequest, context: ServerContext) async throws -> ListLeadTimelineResponse {
        let (caller, tenant) = try context.tenant()
        try Validate.identifier(request.leadId, "lead_id")
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "timeline")
        let leadID = request.leadId
        // Every caller sees every entry; bodies of mail from other users' mailboxes only for the
        // roles the schema's `manage_others` names (administrators and company managers).
        let readsAll = context.method.mayActOnOthers(role: caller.role)
        let rows = try await env.read(tenant, "the timeline") { db in
            try db.transaction(immediate: false) {
                guard try LeadRecords.exists(db, id: leadID) else { throw RPCError(.notFound, "no lead '\(leadID)'") }
                return try TimelineRecords.page(db, leadID: leadID, limit: page.limitPlusOne, offset: Int64(page.offset),
                                                readerUserID: caller.userID, readsAll: readsAll)
            }
        }
        var response = ListLeadTimelineResponse()
        var bodyBytes = 0
        for (record, mayRead, stored) in rows.prefix(page.size) {
            var entry = TimelineEntry(record)
            if !mayRead {
                entry.bodyWithheld = true
            } else if let stored {
                switch TimelineBodies.text(stored) {
                case .success(let text):
                    if bodyBytes + text.utf8.count > Self.bodyBudgetPerPage, !response.entries.isEmpty {
                        // The rest of the page follows on the next one: an offset token just after
                        // the entries returned so far.
                        let shorter = try Page(size: Int32(response.entries.count), token: request.pageToken, kind: "timeline")
                        response.nextPageToken = shorter.nextToken(found: response.entries.count + 1)
                        return response
                    }
                    bodyBytes += text.utf8.count
                    entry.bodyText = text
                case .failure(let failure):
                    env.logger.warning("timeline entry body not shown", metadata: [
                        "entry": "\(entry.id)", "company": "\(tenant)", "reason": "\(failure)", "request": "\(context.requestID)",
                    ])
                }
            }
            response.entries.append(entry)
        }
        response.nextPageToken = page.nextToken(found: rows.count)
        return response
    }
}

/// Rejected items as the response lists them: the first ``LeadHandlers/maxListedRejections`` one
/// by one, then one entry counting the rest.
private struct Rejections {
    private(set) var items: [LeadRejection] = []
    private var unlisted = 0

    mutating func add(id: String, reason: String) {
        guard items.count < LeadHandlers.maxListedRejections else {
            unlisted += 1
            return
        }
        var rejection = LeadRejection()
        rejection.leadId = String(id.prefix(128))
        rejection.reason = reason
        items.append(rejection)
    }

    var listed: [LeadRejection] {
        guard unlisted > 0 else { return items }
        var more = LeadRejection()
        more.reason = "\(unlisted) more were rejected; fix the ones listed and send again to see the rest"
        return items + [more]
    }
}
