/// The plans as first installed: display names, whether closed to new companies, and caps.
///
/// Operators change caps later with `UpdatePlanCaps`; these seed the control database once.
/// CRM Free caps synced email at 100 per user per day (the help articles); a 0 per-day cap means
/// unlimited. Poll intervals are floors: Gmail mailboxes are polled no more than every 10 minutes
/// whatever the plan (provider presets, with the sync engine).
package enum PlanCatalog {
    package struct Entry {
        package let plan: CompanyPlan
        package let displayName: String
        package let legacy: Bool
        package let mailboxSyncLimit: UInt32
        package let syncedEmailsPerUserPerDay: UInt32
        package let minimumPollIntervalSeconds: UInt32
    }

    package static let defaults: [Entry] = [
        Entry(plan: .trial, displayName: "Trial", legacy: false, mailboxSyncLimit: 5, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 300),
        Entry(plan: .essential, displayName: "Essential", legacy: false, mailboxSyncLimit: 10, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 300),
        Entry(plan: .advanced, displayName: "Advanced", legacy: false, mailboxSyncLimit: 50, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 120),
        Entry(plan: .ultimate, displayName: "Ultimate", legacy: false, mailboxSyncLimit: 250, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 60),
        Entry(plan: .marketingAutomation, displayName: "Marketing Automation", legacy: true, mailboxSyncLimit: 50, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 120),
        Entry(plan: .crmUltimate, displayName: "CRM Ultimate", legacy: true, mailboxSyncLimit: 100, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 120),
        Entry(plan: .crmPro, displayName: "CRM Pro", legacy: true, mailboxSyncLimit: 25, syncedEmailsPerUserPerDay: 0, minimumPollIntervalSeconds: 300),
        Entry(plan: .crmFree, displayName: "CRM Free", legacy: true, mailboxSyncLimit: 2, syncedEmailsPerUserPerDay: 100, minimumPollIntervalSeconds: 600),
    ]
}
