import MailSyncStorage

/// Tenant schema version 12: every domain enum column holds its ``StoredEnum`` text code instead
/// of the number versions 1 to 11 wrote (which were the wire schema's enum numbers).
///
/// The columns keep their declared `INTEGER` type, so no table is rebuilt and every index stays as
/// it was (none of these columns is in an index or a CHECK constraint): under SQLite's INTEGER
/// affinity a text value that does not look like a number (every code) is stored as text, as is.
/// Each column is rewritten with one `UPDATE … SET c = CASE c WHEN <old> THEN '<code>' … END`
/// over its rows that still hold an integer, so running the step on a file that already holds
/// codes changes nothing. A number the old build never wrote is left as it is: reading that row
/// then fails as a `corruptRow` naming table, column and row, rather than being guessed.
///
/// The old numbers are frozen here (this is the one place they are written down); the codes are
/// the enums' own. `sync_events.status` 0 ("no status") becomes the empty text.
///
/// Column defaults are part of a table's definition and stay: `timeline_entries.date_source`
/// still defaults to 0 (version 7), which is not a code, so every insert names its date source
/// (an entry written without one would be refused when read, not shown as `unspecified`).
enum TenantMigration12 {
    /// One column's rewrite: its old numbers and the code each becomes.
    struct Rewrite: Sendable {
        let table: String
        let column: String
        let codes: [(old: Int64, code: String)]
    }

    static let mailboxStatus: [(old: Int64, code: String)] = [
        (2, "enabled"), (3, "error"), (4, "pending"), (5, "connection_issue"), (6, "disabled"),
    ]
    static let provider: [(old: Int64, code: String)] = [
        (1, "gmail"), (2, "microsoft_365"), (3, "godaddy"), (4, "custom_imap"),
    ]
    static let security: [(old: Int64, code: String)] = [
        (0, "unspecified"), (1, "none"), (2, "starttls"), (3, "tls"),
    ]
    static let direction: [(old: Int64, code: String)] = [(1, "sent"), (2, "received")]

    /// Every enum column of the tenant schema at version 11.
    static let rewrites: [Rewrite] = [
        Rewrite(table: "users", column: "role", codes: [
            (1, "administrator"), (2, "company_manager"), (3, "marketing_manager"), (4, "sales_manager"),
            (5, "salesperson"), (6, "junior_salesperson"),
        ]),
        Rewrite(table: "opportunities", column: "status", codes: [(1, "open"), (2, "won"), (3, "lost")]),
        Rewrite(table: "mailboxes", column: "provider", codes: provider),
        Rewrite(table: "mailboxes", column: "auth_method", codes: [(1, "password"), (2, "oauth")]),
        Rewrite(table: "mailboxes", column: "imap_security", codes: security),
        Rewrite(table: "mailboxes", column: "smtp_security", codes: security),
        Rewrite(table: "mailboxes", column: "status", codes: mailboxStatus),
        Rewrite(table: "sync_events", column: "kind", codes: [
            (1, "connected"), (2, "sync_started"), (3, "sync_completed"), (4, "email_recorded"),
            (5, "smart_mail_sent"), (6, "status_changed"), (7, "error"), (8, "disabled"), (9, "deferred"),
        ]),
        Rewrite(table: "sync_events", column: "status", codes: [(0, "")] + mailboxStatus),
        Rewrite(table: "error_log", column: "error_class", codes: [
            (1, "authentication"), (2, "configuration"), (3, "temporary"), (4, "operator"),
        ]),
        Rewrite(table: "timeline_entries", column: "direction", codes: direction),
        Rewrite(table: "timeline_entries", column: "date_source", codes: [
            (0, "unspecified"), (1, "date_header"), (2, "server_received"), (3, "sent"),
        ]),
        Rewrite(table: "timeline_sources", column: "direction", codes: direction),
        Rewrite(table: "timeline_participants", column: "kind", codes: [(1, "from"), (2, "to"), (3, "cc"), (4, "bcc")]),
        Rewrite(table: "oauth_states", column: "provider", codes: provider),
    ]

    /// The `UPDATE` for one column. Table, column and codes are this file's constants (codes are
    /// `[a-z0-9_]*`), never input.
    static func sql(_ rewrite: Rewrite) -> String {
        let cases = rewrite.codes.map { "WHEN \($0.old) THEN '\($0.code)'" }.joined(separator: " ")
        return "UPDATE \(rewrite.table) SET \(rewrite.column) = CASE \(rewrite.column) \(cases) ELSE \(rewrite.column) END "
            + "WHERE typeof(\(rewrite.column)) = 'integer'"
    }

    static let migration = Migration(version: 12, name: "domain enums stored as text codes, not wire numbers") { db in
        for rewrite in rewrites {
            try db.run(sql(rewrite))
        }
    }
}
