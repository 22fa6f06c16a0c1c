import MailSyncStorage

/// Reading companies and plans out of the control database.
package enum CompanyRecords {
    package static let columns = "id, name, plan, state, suspension_reason, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds, created_at"

    /// Decodes a row selected with ``columns``; a bad value is a ``TenantDataError`` naming it.
    package static func company(_ row: Row) throws -> CompanyRecord {
        let r = RowReader(row, table: "companies")
        return CompanyRecord(
            id: try r.string("id"), name: try r.string("name"), plan: try r.value("plan"), state: try r.value("state"),
            suspensionReason: try r.optionalString("suspension_reason") ?? "",
            limits: CompanyRecord.Limits(
                mailboxSyncLimit: try r.integer("mailbox_sync_limit"),
                syncedEmailsPerUserPerDay: try r.integer("synced_emails_per_user_per_day"),
                minimumPollIntervalSeconds: try r.integer("minimum_poll_interval_seconds")),
            createdAt: try r.timestamp("created_at"))
    }

    /// The ids of the companies that are active (the scheduler's and the metrics' walk).
    package static func activeIDs(_ db: SQLiteConnection) throws -> [String] {
        try db.query("SELECT id FROM companies WHERE state = ?", [.text(CompanyRecord.State.active.stored)])
            .map { try RowReader($0, table: "companies").string("id") }
    }

    package static func find(_ db: SQLiteConnection, id: String) throws -> CompanyRecord? {
        try db.query("SELECT \(columns) FROM companies WHERE id = ?", [.text(id)]).first.map(company)
    }

    package static func require(_ db: SQLiteConnection, id: String) throws -> CompanyRecord {
        guard let company = try find(db, id: id) else { throw TenantDataError.notFound("no company '\(id)'") }
        return company
    }

    package static let planColumns = "plan, display_name, legacy, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds"

    /// Decodes a row selected with ``planColumns``.
    package static func plan(_ row: Row) throws -> PlanRecord {
        let r = RowReader(row, table: "plans")
        return PlanRecord(
            plan: try r.value("plan"), displayName: try r.string("display_name"), legacy: try r.bool("legacy"),
            caps: CompanyRecord.Limits(
                mailboxSyncLimit: try r.integer("mailbox_sync_limit"),
                syncedEmailsPerUserPerDay: try r.integer("synced_emails_per_user_per_day"),
                minimumPollIntervalSeconds: try r.integer("minimum_poll_interval_seconds")))
    }

    /// The plan's row; `invalid argument` naming `field` when it has none. `described` is how the
    /// caller's value reads in that message (the caller may have sent a value no plan has).
    package static func requirePlan(_ db: SQLiteConnection, _ plan: CompanyPlan?, field: String, described: String) throws -> PlanRecord {
        guard let plan,
            let row = try db.query("SELECT \(planColumns) FROM plans WHERE plan = ?", [.text(plan.stored)]).first
        else {
            throw TenantDataError.invalidArgument("\(field) must be one of the plans (ListPlans), got \(described)")
        }
        return try self.plan(row)
    }

    /// Checks limits against a plan's caps. A per-day cap of 0 means unlimited; a company limit of
    /// 0 for it means "the plan's cap". The poll interval is a floor: the company's may be longer.
    /// The row of a plan the server itself holds (a company's).
    package static func requirePlan(_ db: SQLiteConnection, _ plan: CompanyPlan, field: String) throws -> PlanRecord {
        try requirePlan(db, plan, field: field, described: "\(plan)")
    }

    package static func checkWithinCaps(_ limits: CompanyRecord.Limits, _ plan: PlanRecord) throws {
        let caps = plan.caps
        if limits.mailboxSyncLimit > caps.mailboxSyncLimit {
            throw TenantDataError.failedPrecondition("mailbox_sync_limit \(limits.mailboxSyncLimit) is above the \(plan.displayName) plan's cap of \(caps.mailboxSyncLimit)")
        }
        if caps.syncedEmailsPerUserPerDay > 0, limits.syncedEmailsPerUserPerDay > caps.syncedEmailsPerUserPerDay {
            throw TenantDataError.failedPrecondition("synced_emails_per_user_per_day \(limits.syncedEmailsPerUserPerDay) is above the \(plan.displayName) plan's cap of \(caps.syncedEmailsPerUserPerDay)")
        }
        if limits.minimumPollIntervalSeconds < caps.minimumPollIntervalSeconds {
            throw TenantDataError.failedPrecondition("minimum_poll_interval_seconds \(limits.minimumPollIntervalSeconds) is below the \(plan.displayName) plan's floor of \(caps.minimumPollIntervalSeconds)")
        }
    }

    /// Writes a company's limits (checked by the caller against its plan's caps).
    package static func setLimits(_ db: SQLiteConnection, id: String, _ limits: CompanyRecord.Limits) throws {
        try db.run("""
            UPDATE companies SET mailbox_sync_limit = ?, synced_emails_per_user_per_day = ?,
                minimum_poll_interval_seconds = ? WHERE id = ?
            """,
            [.integer(Int64(limits.mailboxSyncLimit)), .integer(Int64(limits.syncedEmailsPerUserPerDay)),
             .integer(Int64(limits.minimumPollIntervalSeconds)), .text(id)])
    }

    /// The plan's caps as a company's limits.
    package static func limits(at plan: PlanRecord) -> CompanyRecord.Limits {
        plan.caps
    }
}

extension CompanyRecords {
    /// Adds an active company on `plan` with `limits`.
    package static func insert(
        _ db: SQLiteConnection, id: String, name: String, plan: CompanyPlan, limits: CompanyRecord.Limits, now: Int64
    ) throws {
        try db.run(
            "INSERT INTO companies(\(columns)) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?)",
            [.text(id), .text(name), .text(plan.stored), .text(CompanyRecord.State.active.stored),
             .integer(Int64(limits.mailboxSyncLimit)), .integer(Int64(limits.syncedEmailsPerUserPerDay)),
             .integer(Int64(limits.minimumPollIntervalSeconds)), .integer(now)])
    }

    /// Companies oldest first, optionally only those in `state`, at most `limit` from `offset`.
    package static func list(_ db: SQLiteConnection, state: CompanyRecord.State?, limit: Int64, offset: Int64) throws -> [CompanyRecord] {
        if let state {
            return try db.query(
                "SELECT \(columns) FROM companies WHERE state = ? ORDER BY created_at, id LIMIT ? OFFSET ?",
                [.text(state.stored), .integer(limit), .integer(offset)]).map(company)
        }
        return try db.query(
            "SELECT \(columns) FROM companies ORDER BY created_at, id LIMIT ? OFFSET ?", [.integer(limit), .integer(offset)]
        ).map(company)
    }

    /// Every company, oldest first.
    package static func all(_ db: SQLiteConnection) throws -> [CompanyRecord] {
        try db.query("SELECT \(columns) FROM companies ORDER BY created_at, id").map(company)
    }

    /// The companies on `plan`.
    package static func companies(_ db: SQLiteConnection, on plan: CompanyPlan) throws -> [CompanyRecord] {
        try db.query("SELECT \(columns) FROM companies WHERE plan = ?", [.text(plan.stored)]).map(company)
    }

    package static func setState(_ db: SQLiteConnection, id: String, _ state: CompanyRecord.State, reason: String) throws {
        try db.run("UPDATE companies SET state = ?, suspension_reason = ? WHERE id = ?",
                   [.text(state.stored), .text(reason), .text(id)])
    }

    package static func setPlan(_ db: SQLiteConnection, id: String, _ plan: CompanyPlan) throws {
        try db.run("UPDATE companies SET plan = ? WHERE id = ?", [.text(plan.stored), .text(id)])
    }

    /// Every plan, in ``CompanyPlan``'s declaration order (trial first, CRM Free last).
    package static func plans(_ db: SQLiteConnection) throws -> [PlanRecord] {
        let order = Dictionary(uniqueKeysWithValues: CompanyPlan.allCases.enumerated().map { ($1, $0) })
        return try db.query("SELECT \(planColumns) FROM plans").map(plan).sorted { order[$0.plan, default: 0] < order[$1.plan, default: 0] }
    }

    /// Replaces a plan's caps.
    package static func setCaps(_ db: SQLiteConnection, plan: CompanyPlan, _ caps: CompanyRecord.Limits) throws {
        try db.run("""
            UPDATE plans SET mailbox_sync_limit = ?, synced_emails_per_user_per_day = ?,
                minimum_poll_interval_seconds = ? WHERE plan = ?
            """,
            [.integer(Int64(caps.mailboxSyncLimit)), .integer(Int64(caps.syncedEmailsPerUserPerDay)),
             .integer(Int64(caps.minimumPollIntervalSeconds)), .text(plan.stored)])
    }
}
