import MailSyncClient
import MailSyncCoding
import MailSyncRPC
import MailSyncStorage

/// Reading companies and plans out of the control database.
enum CompanyRecords {
    static let columns = "id, name, plan, state, suspension_reason, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds, created_at"

    static func company(_ row: Row) -> Company {
        var company = Company()
        company.id = row[0].string ?? ""
        company.name = row[1].string ?? ""
        company.plan = Plan(rawValue: Int32(row[2].int64 ?? 0))
        company.state = CompanyState(rawValue: Int32(row[3].int64 ?? 0))
        company.suspensionReason = row[4].string ?? ""
        company.limits.mailboxSyncLimit = UInt32(row[5].int64 ?? 0)
        company.limits.syncedEmailsPerUserPerDay = UInt32(row[6].int64 ?? 0)
        company.limits.minimumPollIntervalSeconds = UInt32(row[7].int64 ?? 0)
        company.createdAt = Timestamp(microsecondsSinceEpoch: row[8].int64 ?? 0)
        return company
    }

    /// The ids of the companies that are active (the scheduler's and the metrics' walk).
    static func activeIDs(_ db: SQLiteConnection) throws -> [String] {
        try db.query("SELECT id FROM companies WHERE state = ?", [.integer(Int64(CompanyState.active.rawValue))])
            .compactMap { $0[0].string }
    }

    static func find(_ db: SQLiteConnection, id: String) throws -> Company? {
        try db.query("SELECT \(columns) FROM companies WHERE id = ?", [.text(id)]).first.map(company)
    }

    static func require(_ db: SQLiteConnection, id: String) throws -> Company {
        guard let company = try find(db, id: id) else { throw RPCError(.notFound, "no company '\(id)'") }
        return company
    }

    static let planColumns = "plan, display_name, legacy, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds"

    static func plan(_ row: Row) -> PlanInfo {
        var info = PlanInfo()
        info.plan = Plan(rawValue: Int32(row[0].int64 ?? 0))
        info.displayName = row[1].string ?? ""
        info.legacy = row[2].int64 == 1
        info.caps.mailboxSyncLimit = UInt32(row[3].int64 ?? 0)
        info.caps.syncedEmailsPerUserPerDay = UInt32(row[4].int64 ?? 0)
        info.caps.minimumPollIntervalSeconds = UInt32(row[5].int64 ?? 0)
        return info
    }

    static func requirePlan(_ db: SQLiteConnection, _ plan: Plan, field: String) throws -> PlanInfo {
        guard plan != .unspecified,
            let row = try db.query("SELECT \(planColumns) FROM plans WHERE plan = ?", [.integer(Int64(plan.rawValue))]).first
        else {
            throw RPCError(.invalidArgument, "\(field) must be one of the plans (ListPlans), got \(plan)")
        }
        return self.plan(row)
    }

    /// Checks limits against a plan's caps. A per-day cap of 0 means unlimited; a company limit of
    /// 0 for it means "the plan's cap". The poll interval is a floor: the company's may be longer.
    static func checkWithinCaps(_ limits: CompanyLimits, _ plan: PlanInfo) throws {
        let caps = plan.caps
        if limits.mailboxSyncLimit > caps.mailboxSyncLimit {
            throw RPCError(.failedPrecondition, "mailbox_sync_limit \(limits.mailboxSyncLimit) is above the \(plan.displayName) plan's cap of \(caps.mailboxSyncLimit)")
        }
        if caps.syncedEmailsPerUserPerDay > 0, limits.syncedEmailsPerUserPerDay > caps.syncedEmailsPerUserPerDay {
            throw RPCError(.failedPrecondition, "synced_emails_per_user_per_day \(limits.syncedEmailsPerUserPerDay) is above the \(plan.displayName) plan's cap of \(caps.syncedEmailsPerUserPerDay)")
        }
        if limits.minimumPollIntervalSeconds < caps.minimumPollIntervalSeconds {
            throw RPCError(.failedPrecondition, "minimum_poll_interval_seconds \(limits.minimumPollIntervalSeconds) is below the \(plan.displayName) plan's floor of \(caps.minimumPollIntervalSeconds)")
        }
    }

    /// Writes a company's limits (checked by the caller against its plan's caps).
    static func setLimits(_ db: SQLiteConnection, id: String, _ limits: CompanyLimits) throws {
        try db.run("""
            UPDATE companies SET mailbox_sync_limit = ?, synced_emails_per_user_per_day = ?,
                minimum_poll_interval_seconds = ? WHERE id = ?
            """,
            [.integer(Int64(limits.mailboxSyncLimit)), .integer(Int64(limits.syncedEmailsPerUserPerDay)),
             .integer(Int64(limits.minimumPollIntervalSeconds)), .text(id)])
    }

    /// The plan's caps as a company's limits.
    static func limits(at plan: PlanInfo) -> CompanyLimits {
        var limits = CompanyLimits()
        limits.mailboxSyncLimit = plan.caps.mailboxSyncLimit
        limits.syncedEmailsPerUserPerDay = plan.caps.syncedEmailsPerUserPerDay
        limits.minimumPollIntervalSeconds = plan.caps.minimumPollIntervalSeconds
        return limits
    }
}
