import Foundation
import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage
import MailSyncTenantData

/// Companies (tenants), plans and company limits.
///
/// Creating a company creates its database file (with its first administrator) first and then its
/// control row, removing the file if the row cannot be written: a failed create leaves nothing
/// behind.
struct CompanyHandlers: MailSync.CompaniesHandler {
    let env: ServiceEnvironment

    func createCompany(_ request: CreateCompanyRequest, context: ServerContext) async throws -> Company {
        let name = request.name.trimmingCharacters(in: .whitespaces)
        try Validate.required(name, "name")
        try Validate.length(name, "name", max: 200)
        let timeZone = request.timeZone.isEmpty ? "UTC" : request.timeZone
        try Validate.timeZone(timeZone, "time_zone")
        var domains = Set<String>()
        for (i, domain) in request.emailDomains.enumerated() {
            try Validate.hostName(domain, "email_domains[\(i)]")
            domains.insert(domain.lowercased())
        }
        let admin = request.administrator
        try Validate.identifier(admin.id, "administrator.id")
        try Validate.required(admin.name, "administrator.name")
        try Validate.length(admin.name, "administrator.name", max: 200)
        let adminEmail = try Validate.email(admin.email, "administrator.email")
        let plan = try await env.controlRead("the company") { db in
            try CompanyRecords.requirePlan(db, request.plan, field: "plan")
        }
        guard !env.quotas.closedPlans.contains(Plan(plan.plan)) else {
            throw RPCError(.failedPrecondition, "the \(plan.displayName) plan is closed to new companies on this server; choose another plan (operators open plans with plansClosedToNewCompanies)")
        }
        // A retried request (same key, same request) gets the company made the first time.
        let key = try IdempotentRequests.key(request.idempotencyKey)
        var vouched = request
        vouched.idempotencyKey = ""
        let scope = IdempotentRequests.scope(method: "CreateCompany", keyID: try context.caller().keyID)
        let (secrets, mac) = (env.secrets, key.map { _ in IdempotentRequests.mac(vouched, secrets: env.secrets) } ?? [])
        let now = env.clock.now().microsecondsSinceEpoch
        if let key, case .replay(let earlier) = try await env.controlRead("the company", { db in
            try IdempotentRequests.find(db, scope: scope, key: key, mac: mac, secrets: secrets, now: now, as: Company.self)
        }) {
            return earlier
        }
        // In a fleet: created on the least-loaded node (elsewhere `moved` naming it; nothing done).
        try await env.fleet?.admitNewCompany()
        let tenant = TenantID.random()
        let sortedDomains = domains.sorted()
        do {
            let lease = try await env.tenants.create(tenant)
            defer { lease.release() }
            try await lease.write { db in
                try SettingsRecords.update(db, timeZone: timeZone)
                try SettingsRecords.replaceDomains(db, with: sortedDomains)
                try UserRecords.insert(db, id: admin.id, name: admin.name, email: adminEmail, role: .administrator, now: now)
            }
        } catch {
            throw StorageFailure.rpcError(error, what: "the company")
        }
        let limits = CompanyRecords.limits(at: plan)
        do {
            let (company, replayed) = try await env.controlWrite("the company") { db -> (Company, Bool) in
                // A twin of this request may have finished while this one made its files.
                if let key, case .replay(let earlier) = try IdempotentRequests.find(
                    db, scope: scope, key: key, mac: mac, secrets: secrets, now: now, as: Company.self) {
                    return (earlier, true)
                }
                try CompanyRecords.insert(db, id: tenant.description, name: name, plan: plan.plan, limits: limits, now: now)
                let company = Company(try CompanyRecords.require(db, id: tenant.description))
                if let key {
                    try IdempotentRequests.record(db, scope: scope, key: key, mac: mac, response: company, secrets: secrets, now: now)
                }
                return (company, false)
            }
            if replayed {
                await removeTenantFiles(tenant)
            } else if let fleet = env.fleet {
                // Placed on this node, where its files are. If etcd cannot take it now, the
                // company stays unplaced and this node claims it on its first use.
                do {
                    try await fleet.placeNew(tenant)
                } catch {
                    env.logger.warning("cluster: the new company is not placed yet; this node claims it on first use", metadata: [
                        "company": "\(tenant)", "error": "\(error)"])
                }
            }
            return company
        } catch {
            await removeTenantFiles(tenant)
            throw error
        }
    }

    private func removeTenantFiles(_ tenant: TenantID) async {
        await env.tenants.evict(tenant)
        try? FileManager.default.removeItem(atPath: env.dataDirectory.tenantDirectory(tenant))
    }

    func getCompany(_ request: GetCompanyRequest, context: ServerContext) async throws -> Company {
        let id = request.companyId
        return Company(try await env.controlRead("the company") { try CompanyRecords.require($0, id: id) })
    }

    func listCompanies(_ request: ListCompaniesRequest, context: ServerContext) async throws -> ListCompaniesResponse {
        let page = try Page(size: request.pageSize, token: request.pageToken, kind: "companies")
        var response = ListCompaniesResponse()
        // A state no company can be in lists none.
        let state: CompanyRecord.State?? = request.state.map { CompanyRecord.State($0) }
        if case .some(.none) = state { return response }
        let rows = try await env.controlRead("the companies") { db in
            try CompanyRecords.list(db, state: state ?? nil, limit: page.limitPlusOne, offset: Int64(page.offset))
        }
        response.companies = rows.prefix(page.size).map(Company.init)
        response.nextPageToken = page.nextToken(found: rows.count)
        return response
    }

    func suspendCompany(_ request: SuspendCompanyRequest, context: ServerContext) async throws -> Company {
        try Validate.length(request.reason, "reason", max: 500)
        let company = try await setState(request.companyId, .suspended, reason: request.reason)
        if let tenant = TenantID(validating: company.id) { env.authenticator.invalidate(company: tenant) }
        return company
    }

    /// Resumes a suspended company; its mailboxes go back on the sync schedule.
    func resumeCompany(_ request: ResumeCompanyRequest, context: ServerContext) async throws -> Company {
        let company = try await setState(request.companyId, .active, reason: "")
        if let tenant = TenantID(validating: company.id) { env.syncRequests.scheduleChanged(tenant) }
        return company
    }

    private func setState(_ id: String, _ state: CompanyRecord.State, reason: String) async throws -> Company {
        Company(try await env.controlWrite("the company") { db in
            _ = try CompanyRecords.require(db, id: id)
            try CompanyRecords.setState(db, id: id, state, reason: reason)
            return try CompanyRecords.require(db, id: id)
        })
    }

    /// Moves a company to another plan; limits above the new plan's caps come down to them.
    func changePlan(_ request: ChangePlanRequest, context: ServerContext) async throws -> Company {
        let id = request.companyId
        let newPlan = request.plan
        let company = try await env.controlWrite("the plan change") { db in
            let company = try CompanyRecords.require(db, id: id)
            let plan = try CompanyRecords.requirePlan(db, newPlan, field: "plan")
            let limits = Self.clamped(company.limits, to: plan)
            try CompanyRecords.setPlan(db, id: id, plan.plan)
            try CompanyRecords.setLimits(db, id: id, limits)
            return try CompanyRecords.require(db, id: id)
        }
        if let tenant = TenantID(validating: id) { env.planChanged(tenant) }  // its storage quota follows the plan
        return Company(company)
    }

    /// Sets a company's limits within its plan's caps: operators for any company, a company's
    /// administrators and company managers for their own.
    func setCompanyLimits(_ request: SetCompanyLimitsRequest, context: ServerContext) async throws -> Company {
        let (_, tenant) = try context.company(named: request.companyId)
        let id = tenant.description
        let limits = CompanyRecord.Limits(request.limits)
        let company = try await env.controlWrite("the limits") { db in
            let company = try CompanyRecords.require(db, id: id)
            let plan = try CompanyRecords.requirePlan(db, company.plan, field: "plan")
            try CompanyRecords.checkWithinCaps(limits, plan)
            try CompanyRecords.setLimits(db, id: id, limits)
            return try CompanyRecords.require(db, id: id)
        }
        // A higher mailbox sync limit starts the oldest waiting (PENDING) mailboxes at once.
        let now = env.clock.now().microsecondsSinceEpoch
        let limit = company.limits.mailboxSyncLimit
        _ = try await env.write(tenant, "the waiting mailboxes") { db in
            try MailboxRecords.promotePending(db, limit: limit, now: now)
        }
        env.syncRequests.scheduleChanged(tenant)
        return Company(company)
    }

    func listPlans(_ request: ListPlansRequest, context: ServerContext) async throws -> ListPlansResponse {
        let plans = try await env.controlRead("the plans") { try CompanyRecords.plans($0) }
        var response = ListPlansResponse()
        response.plans = plans.map(PlanInfo.init)
        return response
    }

    /// Changes a plan's caps; every company on it whose limits exceed the new caps is lowered to fit.
    func updatePlanCaps(_ request: UpdatePlanCapsRequest, context: ServerContext) async throws -> PlanInfo {
        let caps = CompanyRecord.Limits(request.caps)
        let planValue = request.plan
        guard caps.mailboxSyncLimit > 0 else {
            throw RPCError(.invalidArgument, "caps.mailbox_sync_limit must be at least 1")
        }
        return PlanInfo(try await env.controlWrite("the plan caps") { db in
            let before = try CompanyRecords.requirePlan(db, planValue, field: "plan")
            try CompanyRecords.setCaps(db, plan: before.plan, caps)
            let plan = try CompanyRecords.requirePlan(db, before.plan, field: "plan")
            let companies = try CompanyRecords.companies(db, on: before.plan)
            for company in companies {
                let limits = Self.clamped(company.limits, to: plan)
                guard limits != company.limits else { continue }
                try CompanyRecords.setLimits(db, id: company.id, limits)
            }
            return plan
        })
    }

    static func clamped(_ limits: CompanyRecord.Limits, to plan: PlanRecord) -> CompanyRecord.Limits {
        var result = limits
        result.mailboxSyncLimit = min(limits.mailboxSyncLimit, plan.caps.mailboxSyncLimit)
        if plan.caps.syncedEmailsPerUserPerDay > 0 {
            result.syncedEmailsPerUserPerDay = limits.syncedEmailsPerUserPerDay == 0
                ? plan.caps.syncedEmailsPerUserPerDay : min(limits.syncedEmailsPerUserPerDay, plan.caps.syncedEmailsPerUserPerDay)
        }
        result.minimumPollIntervalSeconds = max(limits.minimumPollIntervalSeconds, plan.caps.minimumPollIntervalSeconds)
        return result
    }
}
