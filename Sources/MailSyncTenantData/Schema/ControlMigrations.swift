import MailSyncStorage

/// The control database's schema: plans, companies (tenants) and API keys.
///
/// Times are microseconds since the Unix epoch. Company ids are the tenant UUIDs that name the
/// tenant directories. An API key row keeps only the SHA-256 of its secret. Since version 4 a
/// company's plan and state (and `plans.plan`) are ``StoredEnum`` text codes
/// (``ControlMigration4``); `api_keys.role` has always been text.
package enum ControlMigrations {
    package static let all: [Migration] = [
        // Version 1 seeds `plans` with the numbers it always wrote (version 4 turns them into codes).
        Migration(version: 1, name: "plans, companies, api keys") { db in
            try db.execute("""
                CREATE TABLE plans(
                    plan INTEGER PRIMARY KEY,
                    display_name TEXT NOT NULL,
                    legacy INTEGER NOT NULL,
                    mailbox_sync_limit INTEGER NOT NULL,
                    synced_emails_per_user_per_day INTEGER NOT NULL,
                    minimum_poll_interval_seconds INTEGER NOT NULL);
                CREATE TABLE companies(
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    plan INTEGER NOT NULL REFERENCES plans(plan),
                    state INTEGER NOT NULL,
                    suspension_reason TEXT NOT NULL DEFAULT '',
                    mailbox_sync_limit INTEGER NOT NULL,
                    synced_emails_per_user_per_day INTEGER NOT NULL,
                    minimum_poll_interval_seconds INTEGER NOT NULL,
                    created_at INTEGER NOT NULL);
                CREATE INDEX companies_created ON companies(created_at, id);
                CREATE TABLE api_keys(
                    id TEXT PRIMARY KEY,
                    company_id TEXT REFERENCES companies(id),
                    role TEXT NOT NULL,
                    user_id TEXT NOT NULL DEFAULT '',
                    label TEXT NOT NULL,
                    secret_hash BLOB NOT NULL,
                    secret_prefix TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    last_used_at INTEGER,
                    revoked INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX api_keys_company ON api_keys(company_id, created_at);
                """)
            for entry in PlanCatalog.defaults {
                try db.run(
                    "INSERT INTO plans VALUES (?, ?, ?, ?, ?, ?)",
                    [.integer(ControlMigration4.number(entry.plan)), .text(entry.displayName), .integer(entry.legacy ? 1 : 0),
                     .integer(Int64(entry.mailboxSyncLimit)), .integer(Int64(entry.syncedEmailsPerUserPerDay)),
                     .integer(Int64(entry.minimumPollIntervalSeconds))])
            }
        },
        Migration(version: 2, name: "secret key check") { db in
            // One row: a value sealed with the server's secret key (SecretKeyCheck), written at the
            // first start with this version; a start with another or a missing key is refused.
            try db.execute("""
                CREATE TABLE secret_key_check(
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    sealed BLOB NOT NULL,
                    fingerprint TEXT NOT NULL,
                    created_at INTEGER NOT NULL);
                """)
        },
        Migration(version: 3, name: "idempotency keys of CreateCompany and CreateApiKey") { db in
            try db.execute("""
                CREATE TABLE idempotent_requests(
                    scope TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL,
                    request_mac BLOB NOT NULL,
                    response BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY(scope, idempotency_key)) WITHOUT ROWID;
                CREATE INDEX idempotent_requests_created ON idempotent_requests(created_at);
                """)
        },
        ControlMigration4.migration,
        ControlMigration5.migration,
    ]
}
