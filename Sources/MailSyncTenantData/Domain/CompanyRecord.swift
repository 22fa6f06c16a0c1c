import MailSyncCoding

/// A plan a company is on (rows of `plans`, `companies.plan`).
package enum CompanyPlan: String, StoredEnum {
    case trial
    case essential
    case advanced
    case ultimate
    case marketingAutomation = "marketing_automation"
    case crmUltimate = "crm_ultimate"
    case crmPro = "crm_pro"
    case crmFree = "crm_free"

    package static let storedName = "plan"
}

/// One row of the control database's `companies`.
package struct CompanyRecord: Sendable, Hashable {
    package enum State: String, StoredEnum {
        case active
        case suspended

        package static let storedName = "company state"
    }

    /// A company's limits, or a plan's caps. A per-day cap of 0 means unlimited.
    package struct Limits: Sendable, Hashable {
        package var mailboxSyncLimit: UInt32 = 0
        package var syncedEmailsPerUserPerDay: UInt32 = 0
        package var minimumPollIntervalSeconds: UInt32 = 0

        package init(mailboxSyncLimit: UInt32 = 0, syncedEmailsPerUserPerDay: UInt32 = 0, minimumPollIntervalSeconds: UInt32 = 0) {
            self.mailboxSyncLimit = mailboxSyncLimit
            self.syncedEmailsPerUserPerDay = syncedEmailsPerUserPerDay
            self.minimumPollIntervalSeconds = minimumPollIntervalSeconds
        }
    }

    package var id: String
    package var name: String
    package var plan: CompanyPlan
    package var state: State
    package var suspensionReason: String
    package var limits: Limits
    package var createdAt: Timestamp
}

/// One row of the control database's `plans`.
package struct PlanRecord: Sendable, Hashable {
    package var plan: CompanyPlan
    package var displayName: String
    /// Closed to new companies.
    package var legacy: Bool
    package var caps: CompanyRecord.Limits
}
