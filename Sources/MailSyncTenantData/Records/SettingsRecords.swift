import MailSyncStorage

/// A company's own settings row and email domains.
package enum SettingsRecords {
    /// The settings as stored in the company's database; plan and limits come from the control
    /// database and are filled in by the caller.
    ///
    /// - Throws: a corrupt-row ``TenantDataError`` when the one settings row is missing or bad.
    package static func read(_ db: SQLiteConnection) throws -> CompanySettingsRecord {
        guard let row = try db.query("SELECT id, prevent_internal_email_sync, time_zone FROM settings WHERE id = 1").first else {
            throw TenantDataError.corruptRow(table: "settings", column: "id", row: "1", "is missing; every company database has it")
        }
        let r = RowReader(row, table: "settings")
        return CompanySettingsRecord(
            preventInternalEmailSync: try r.bool("prevent_internal_email_sync"), timeZone: try r.string("time_zone"),
            emailDomains: try db.query("SELECT domain FROM email_domains ORDER BY domain")
                .map { try RowReader($0, table: "email_domains").string("domain") })
    }

    /// Replaces the whole list of email domains (already validated and lower-cased).
    package static func replaceDomains(_ db: SQLiteConnection, with domains: [String]) throws {
        try db.run("DELETE FROM email_domains")
        for domain in domains {
            try db.run("INSERT OR IGNORE INTO email_domains(domain) VALUES (?)", [.text(domain)])
        }
    }
}

extension SettingsRecords {
    /// Changes the fields given; nil leaves one as it is.
    package static func update(_ db: SQLiteConnection, preventInternalEmailSync: Bool? = nil, timeZone: String? = nil) throws {
        if let preventInternalEmailSync {
            try db.run("UPDATE settings SET prevent_internal_email_sync = ? WHERE id = 1", [.integer(preventInternalEmailSync ? 1 : 0)])
        }
        if let timeZone { try db.run("UPDATE settings SET time_zone = ? WHERE id = 1", [.text(timeZone)]) }
    }
}
