import MailSyncClient
import MailSyncCoding
import MailSyncStorage
import MailSyncTenantData

// Companies, plans, users, API keys and settings between the wire and the tenant data, by case.

extension Plan {
    init(_ plan: CompanyPlan) {
        switch plan {
        case .trial: self = .trial
        case .essential: self = .essential
        case .advanced: self = .advanced
        case .ultimate: self = .ultimate
        case .marketingAutomation: self = .marketingAutomation
        case .crmUltimate: self = .crmUltimate
        case .crmPro: self = .crmPro
        case .crmFree: self = .crmFree
        }
    }
}

extension CompanyPlan {
    init?(_ plan: Plan) {
        switch plan {
        case .trial: self = .trial
        case .essential: self = .essential
        case .advanced: self = .advanced
        case .ultimate: self = .ultimate
        case .marketingAutomation: self = .marketingAutomation
        case .crmUltimate: self = .crmUltimate
        case .crmPro: self = .crmPro
        case .crmFree: self = .crmFree
        default: return nil
        }
    }
}

extension CompanyRecords {
    /// The plan's row for a plan a caller sent; `invalid argument` naming `field` for
    /// `UNSPECIFIED`, a value the schema does not know, or a plan the server has no row for.
    static func requirePlan(_ db: SQLiteConnection, _ plan: Plan, field: String) throws -> PlanRecord {
        try requirePlan(db, CompanyPlan(plan), field: field, described: "\(plan)")
    }
}

extension CompanyState {
    init(_ state: CompanyRecord.State) {
        switch state {
        case .active: self = .active
        case .suspended: self = .suspended
        }
    }
}

extension CompanyLimits {
    init(_ limits: CompanyRecord.Limits) {
        self.init()
        mailboxSyncLimit = limits.mailboxSyncLimit
        syncedEmailsPerUserPerDay = limits.syncedEmailsPerUserPerDay
        minimumPollIntervalSeconds = limits.minimumPollIntervalSeconds
    }
}

extension PlanCaps {
    init(_ caps: CompanyRecord.Limits) {
        self.init()
        mailboxSyncLimit = caps.mailboxSyncLimit
        syncedEmailsPerUserPerDay = caps.syncedEmailsPerUserPerDay
        minimumPollIntervalSeconds = caps.minimumPollIntervalSeconds
    }
}

extension CompanyRecord.Limits {
    init(_ caps: PlanCaps) {
        self.init(
            mailboxSyncLimit: caps.mailboxSyncLimit, syncedEmailsPerUserPerDay: caps.syncedEmailsPerUserPerDay,
            minimumPollIntervalSeconds: caps.minimumPollIntervalSeconds)
    }

    init(_ limits: CompanyLimits) {
        self.init(
            mailboxSyncLimit: limits.mailboxSyncLimit, syncedEmailsPerUserPerDay: limits.syncedEmailsPerUserPerDay,
            minimumPollIntervalSeconds: limits.minimumPollIntervalSeconds)
    }
}

extension Company {
    init(_ record: CompanyRecord) {
        self.init()
        id = record.id
        name = record.name
        plan = Plan(record.plan)
        state = CompanyState(record.state)
        suspensionReason = record.suspensionReason
        limits = CompanyLimits(record.limits)
        createdAt = record.createdAt
    }
}

extension PlanInfo {
    init(_ record: PlanRecord) {
        self.init()
        plan = Plan(record.plan)
        displayName = record.displayName
        legacy = record.legacy
        caps = PlanCaps(record.caps)
    }
}

extension UserRole {
    init(_ role: UserRecord.Role) {
        switch role {
        case .administrator: self = .administrator
        case .companyManager: self = .companyManager
        case .marketingManager: self = .marketingManager
        case .salesManager: self = .salesManager
        case .salesperson: self = .salesperson
        case .juniorSalesperson: self = .juniorSalesperson
        }
    }
}

extension UserRecord.Role {
    init?(_ role: UserRole) {
        switch role {
        case .administrator: self = .administrator
        case .companyManager: self = .companyManager
        case .marketingManager: self = .marketingManager
        case .salesManager: self = .salesManager
        case .salesperson: self = .salesperson
        case .juniorSalesperson: self = .juniorSalesperson
        default: return nil
        }
    }
}

extension User {
    init(_ record: UserRecord) {
        self.init()
        id = record.id
        name = record.name
        email = record.email
        role = UserRole(record.role)
        active = record.active
        createdAt = record.createdAt
        if let mailbox = record.mailbox {
            mailboxId = mailbox.id
            mailboxStatus = MailboxStatus(mailbox.status)
        } else {
            mailboxStatus = .notConfigured
        }
    }
}

extension ApiKey {
    init(_ record: APIKeyRecord) {
        self.init()
        id = record.id
        companyId = record.companyId
        role = record.role
        userId = record.userId
        label = record.label
        secretPrefix = record.secretPrefix
        createdAt = record.createdAt
        expiresAt = record.expiresAt
        lastUsedAt = record.lastUsedAt
        revoked = record.revoked
    }
}

extension CompanySettings {
    /// The company's own settings; plan and limits (from the control database) are the caller's.
    init(_ record: CompanySettingsRecord) {
        self.init()
        preventInternalEmailSync = record.preventInternalEmailSync
        timeZone = record.timeZone
        emailDomains = record.emailDomains
    }
}

extension CompanyRecord.State {
    init?(_ state: CompanyState) {
        switch state {
        case .active: self = .active
        case .suspended: self = .suspended
        default: return nil
        }
    }
}
