import MailSyncStorage

/// Control schema version 4: `plans.plan`, `companies.plan` and `companies.state` hold
/// ``CompanyPlan`` and ``CompanyRecord/State`` text codes instead of the numbers version 1 wrote
/// (the wire schema's enum numbers). This file and version 1's seeding are the one place the old
/// numbers are written down.
///
/// `plans.plan` was an `INTEGER PRIMARY KEY` (the rowid, which cannot hold text), so `plans` is
/// rebuilt with `plan TEXT PRIMARY KEY`; its rows keep their order and caps. `companies` keeps its
/// definition (INTEGER affinity stores a code such as `'trial'` as text) and its values are
/// rewritten in place, so `api_keys`' reference to it and its index are untouched. The step runs
/// in the migrator's transaction with foreign keys checked at commit (`defer_foreign_keys`):
/// dropping the old `plans` leaves every company's plan without a parent until the new rows are
/// in and the companies rewritten, and the commit fails if any company is left pointing at a plan
/// that does not exist. A number version 1 never wrote is left as it is, and reading it is a
/// `corruptRow` naming table, column and row.
enum ControlMigration4 {
    /// The numbers control schema versions 1 to 3 stored for each plan.
    static let planNumbers: [(old: Int64, plan: CompanyPlan)] = [
        (1, .trial), (2, .essential), (3, .advanced), (4, .ultimate),
        (5, .marketingAutomation), (6, .crmUltimate), (7, .crmPro), (8, .crmFree),
    ]
    /// The numbers control schema versions 1 to 3 stored for a company's state.
    static let stateNumbers: [(old: Int64, state: CompanyRecord.State)] = [(1, .active), (2, .suspended)]

    /// Version 1's number for `plan` (its seeding of `plans`).
    static func number(_ plan: CompanyPlan) -> Int64 {
        planNumbers.first { $0.plan == plan }?.old ?? 0
    }

    /// `CASE column WHEN <old> THEN '<code>' … ELSE column END` (constants of this file only).
    static func rewrite(_ column: String, _ codes: [(Int64, String)]) -> String {
        "CASE \(column) " + codes.map { "WHEN \($0.0) THEN '\($0.1)'" }.joined(separator: " ") + " ELSE \(column) END"
    }

    static let migration = Migration(version: 4, name: "plans and company states stored as text codes, not wire numbers") { db in
        let plans = rewrite("plan", planNumbers.map { ($0.old, $0.plan.stored) })
        let states = rewrite("state", stateNumbers.map { ($0.old, $0.state.stored) })
        try db.execute("""
            PRAGMA defer_foreign_keys = ON;
            CREATE TEMP TABLE plans_before AS SELECT rowid AS position, * FROM plans;
            DROP TABLE plans;
            CREATE TABLE plans(
                plan TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                legacy INTEGER NOT NULL,
                mailbox_sync_limit INTEGER NOT NULL,
                synced_emails_per_user_per_day INTEGER NOT NULL,
                minimum_poll_interval_seconds INTEGER NOT NULL);
            INSERT INTO plans(plan, display_name, legacy, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds)
                SELECT \(plans), display_name, legacy, mailbox_sync_limit, synced_emails_per_user_per_day, minimum_poll_interval_seconds
                FROM plans_before ORDER BY position;
            DROP TABLE plans_before;
            UPDATE companies SET plan = \(plans), state = \(states) WHERE typeof(plan) = 'integer' OR typeof(state) = 'integer';
            """)
    }
}
