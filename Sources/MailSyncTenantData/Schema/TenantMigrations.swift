import MailSyncStorage

/// One company's database: its settings, users, leads and opportunities, mailboxes, sync events,
/// error log and the timeline.
///
/// Times are microseconds since the Unix epoch. Ids are the CRM's own (users, leads,
/// opportunities) or server-made UUIDs (mailboxes, events, entries). A mailbox's secret is sealed
/// with `SecretBox` under the context `tenant/<tenant>/mailbox/<id>/secret`, so a copied value
/// does not open elsewhere. One active (not disabled) mailbox per user.
///
/// Version 3 (the sync engine): a timeline entry is one email on one lead's timeline, whoever
/// synced it (`UNIQUE(lead_id, message_key)`); `timeline_sources` says which mailboxes (and so
/// users) hold it; `mailbox_messages` is what each mailbox recorded (a rescan after a UIDVALIDITY
/// change finds it there and records nothing twice); `daily_counts` counts recorded emails per
/// user per day in the company's time zone (the plan's daily cap); `messages.raw_zlib` keeps the
/// message as the server sent it; `mailboxes` gains the retry state.
///
/// Version 12 (``TenantMigration12``): every domain enum column (roles, statuses, providers,
/// kinds, directions, …) holds its enum's ``StoredEnum`` text code, owned by this module, instead
/// of the wire schema's enum number; the columns keep their `INTEGER` declaration (text that does
/// not look like a number stays text under INTEGER affinity).
///
/// Version 8 (retro-match, ``RetroMatchStore``): `retro_queue` lists lead addresses added since,
/// in order (`seq`, AUTOINCREMENT so a number is never reused after the handled rows are pruned);
/// `mailboxes.retro_handled` is the last `seq` whose past mail that mailbox has searched.
package enum TenantMigrations {
    package static let all: [Migration] = [
        Migration(version: 1, name: "settings, users, leads, mailboxes, events, timeline", sql: """
            CREATE TABLE settings(
                id INTEGER PRIMARY KEY CHECK (id = 1),
                prevent_internal_email_sync INTEGER NOT NULL,
                time_zone TEXT NOT NULL);
            INSERT INTO settings VALUES (1, 1, 'UTC');
            CREATE TABLE email_domains(domain TEXT PRIMARY KEY) WITHOUT ROWID;
            CREATE TABLE users(
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                email TEXT NOT NULL,
                role INTEGER NOT NULL,
                active INTEGER NOT NULL,
                created_at INTEGER NOT NULL);
            CREATE INDEX users_email ON users(email);
            CREATE TABLE leads(
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                company_name TEXT NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE TABLE lead_addresses(
                address TEXT NOT NULL,
                lead_id TEXT NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
                PRIMARY KEY(address, lead_id)) WITHOUT ROWID;
            CREATE INDEX lead_addresses_lead ON lead_addresses(lead_id);
            CREATE TABLE opportunities(
                id TEXT PRIMARY KEY,
                lead_id TEXT NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                status INTEGER NOT NULL,
                updated_at INTEGER NOT NULL);
            CREATE INDEX opportunities_lead ON opportunities(lead_id);
            CREATE TABLE mailboxes(
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id),
                email_address TEXT NOT NULL,
                provider INTEGER NOT NULL,
                auth_method INTEGER NOT NULL,
                imap_host TEXT NOT NULL, imap_port INTEGER NOT NULL, imap_security INTEGER NOT NULL,
                smtp_host TEXT NOT NULL, smtp_port INTEGER NOT NULL, smtp_security INTEGER NOT NULL,
                username TEXT NOT NULL,
                secret BLOB,
                status INTEGER NOT NULL,
                status_since INTEGER NOT NULL,
                last_synced_at INTEGER,
                synced_today INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                disabled_at INTEGER);
            CREATE UNIQUE INDEX mailboxes_one_active_per_user ON mailboxes(user_id) WHERE disabled_at IS NULL;
            CREATE INDEX mailboxes_created ON mailboxes(created_at, id);
            CREATE TABLE sync_events(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                time INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                mailbox_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                status INTEGER NOT NULL,
                emails_synced INTEGER NOT NULL,
                detail TEXT NOT NULL);
            CREATE INDEX sync_events_mailbox ON sync_events(mailbox_id, seq);
            CREATE TABLE error_log(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                mailbox_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                email_address TEXT NOT NULL,
                error_class INTEGER NOT NULL,
                server_text TEXT NOT NULL,
                fix_hint TEXT NOT NULL,
                first_seen INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                count INTEGER NOT NULL,
                UNIQUE(mailbox_id, server_text));
            CREATE INDEX error_log_last_seen ON error_log(last_seen);
            CREATE TABLE messages(
                message_key TEXT PRIMARY KEY,
                body_zlib BLOB,
                size INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE timeline_entries(
                id TEXT PRIMARY KEY,
                lead_id TEXT NOT NULL,
                message_key TEXT NOT NULL,
                mailbox_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                subject TEXT NOT NULL,
                date INTEGER NOT NULL,
                direction INTEGER NOT NULL,
                smart_mail INTEGER NOT NULL DEFAULT 0,
                UNIQUE(lead_id, message_key, mailbox_id));
            CREATE INDEX timeline_lead_date ON timeline_entries(lead_id, date DESC, id);
            CREATE INDEX timeline_mailbox ON timeline_entries(mailbox_id);
            CREATE TABLE timeline_participants(
                entry_id TEXT NOT NULL REFERENCES timeline_entries(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                address TEXT NOT NULL,
                display_name TEXT NOT NULL,
                PRIMARY KEY(entry_id, position)) WITHOUT ROWID;
            CREATE TABLE opportunity_links(
                entry_id TEXT NOT NULL REFERENCES timeline_entries(id) ON DELETE CASCADE,
                opportunity_id TEXT NOT NULL,
                PRIMARY KEY(entry_id, opportunity_id)) WITHOUT ROWID;
            """),
        Migration(version: 2, name: "folder cursors for incremental sync", sql: """
            CREATE TABLE folder_cursors(
                mailbox_id TEXT NOT NULL,
                folder TEXT NOT NULL,
                uid_validity INTEGER NOT NULL,
                highest_uid INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY(mailbox_id, folder)) WITHOUT ROWID;
            """),
        Migration(version: 3, name: "sync engine: one entry per lead and message, sources, daily counts, retry state", sql: """
            CREATE TABLE timeline_sources(
                entry_id TEXT NOT NULL REFERENCES timeline_entries(id) ON DELETE CASCADE,
                mailbox_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                direction INTEGER NOT NULL,
                PRIMARY KEY(entry_id, mailbox_id)) WITHOUT ROWID;
            CREATE INDEX timeline_sources_mailbox ON timeline_sources(mailbox_id);
            INSERT OR IGNORE INTO timeline_sources(entry_id, mailbox_id, user_id, direction)
                SELECT keep.id, t.mailbox_id, t.user_id, t.direction
                FROM timeline_entries t
                JOIN (SELECT lead_id, message_key, min(id) AS id FROM timeline_entries GROUP BY lead_id, message_key) keep
                  ON keep.lead_id = t.lead_id AND keep.message_key = t.message_key;
            INSERT OR IGNORE INTO opportunity_links(entry_id, opportunity_id)
                SELECT keep.id, l.opportunity_id
                FROM opportunity_links l JOIN timeline_entries t ON t.id = l.entry_id
                JOIN (SELECT lead_id, message_key, min(id) AS id FROM timeline_entries GROUP BY lead_id, message_key) keep
                  ON keep.lead_id = t.lead_id AND keep.message_key = t.message_key;
            DELETE FROM timeline_entries WHERE id NOT IN (SELECT min(id) FROM timeline_entries GROUP BY lead_id, message_key);
            CREATE UNIQUE INDEX timeline_lead_message ON timeline_entries(lead_id, message_key);
            CREATE TABLE mailbox_messages(
                mailbox_id TEXT NOT NULL,
                message_key TEXT NOT NULL,
                folder TEXT NOT NULL,
                uid INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                PRIMARY KEY(mailbox_id, message_key)) WITHOUT ROWID;
            CREATE TABLE daily_counts(
                user_id TEXT NOT NULL,
                day TEXT NOT NULL,
                recorded INTEGER NOT NULL,
                PRIMARY KEY(user_id, day)) WITHOUT ROWID;
            ALTER TABLE messages ADD COLUMN raw_zlib BLOB;
            ALTER TABLE mailboxes ADD COLUMN failing_since INTEGER;
            ALTER TABLE mailboxes ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE mailboxes ADD COLUMN attempts_exhausted INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE mailboxes ADD COLUMN next_sync_at INTEGER;
            ALTER TABLE mailboxes ADD COLUMN backfill_since INTEGER;
            UPDATE mailboxes SET next_sync_at = created_at WHERE disabled_at IS NULL;
            CREATE INDEX mailboxes_next_sync ON mailboxes(next_sync_at) WHERE next_sync_at IS NOT NULL;
            """),
        Migration(version: 4, name: "Smart Mail idempotency keys", sql: """
            CREATE TABLE smart_mail_sends(
                user_id TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                started_at INTEGER NOT NULL,
                message_id TEXT,
                sent_at INTEGER,
                timeline_entry_id TEXT,
                PRIMARY KEY(user_id, idempotency_key)) WITHOUT ROWID;
            CREATE INDEX smart_mail_sends_started ON smart_mail_sends(started_at);
            """),
        Migration(version: 5, name: "OAuth sign-ins in progress", sql: """
            CREATE TABLE oauth_states(
                state_hash TEXT PRIMARY KEY,
                started_by TEXT NOT NULL,
                user_id TEXT NOT NULL,
                provider INTEGER NOT NULL,
                redirect_uri TEXT NOT NULL,
                verifier BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL) WITHOUT ROWID;
            """),
        Migration(version: 6, name: "idempotency keys of CreateUser and CreateMailboxConnection", sql: """
            CREATE TABLE idempotent_requests(
                scope TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                request_mac BLOB NOT NULL,
                response BLOB NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY(scope, idempotency_key)) WITHOUT ROWID;
            CREATE INDEX idempotent_requests_created ON idempotent_requests(created_at);
            """),
        Migration(version: 7, name: "where a timeline entry's date comes from", sql: """
            ALTER TABLE timeline_entries ADD COLUMN date_source INTEGER NOT NULL DEFAULT 0;
            """),
        Migration(version: 8, name: "the redacted exchange before each logged error", sql: """
            ALTER TABLE error_log ADD COLUMN exchange TEXT NOT NULL DEFAULT '';
            """),
        Migration(version: 9, name: "the provider governor: usage per UTC day, deferrals", sql: """
            ALTER TABLE mailboxes ADD COLUMN usage_day TEXT NOT NULL DEFAULT '';
            ALTER TABLE mailboxes ADD COLUMN usage_bytes INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE mailboxes ADD COLUMN usage_commands INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE mailboxes ADD COLUMN deferred_until INTEGER;
            ALTER TABLE mailboxes ADD COLUMN deferred_reason TEXT NOT NULL DEFAULT '';
            """),
        Migration(version: 10, name: "retro-match: the queue of new lead addresses, each mailbox's progress", sql: """
            CREATE TABLE retro_queue(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                address TEXT NOT NULL,
                queued_at INTEGER NOT NULL);
            ALTER TABLE mailboxes ADD COLUMN retro_handled INTEGER NOT NULL DEFAULT 0;
            """),
        Migration(version: 11, name: "the provider governor: Smart Mails sent per UTC day", sql: """
            ALTER TABLE mailboxes ADD COLUMN usage_sends INTEGER NOT NULL DEFAULT 0;
            """),
        TenantMigration12.migration,
    ]
}
