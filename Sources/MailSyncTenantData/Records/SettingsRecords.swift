import MailSyncClient
import MailSyncStorage

/// A company's own settings row and email domains.
enum SettingsRecords {
    /// The settings as stored in the company's database; plan and limits come from the control
    /// database and are filled in by the caller.
    static func read(_ db: SQLiteConnection) throws -> CompanySettings {
        var settings = CompanySettings()
        if let row = try db.query("SELECT prevent_internal_email_sync, time_zone FROM settings WHERE id = 1").first {
            settings.preventInternalEmailSync = row[0].int64 == 1
            settings.timeZone = row[1].string ?? "UTC"
        }
        settings.emailDomains = try db.query("SELECT domain FROM email_domains ORDER BY domain").compactMap { $0[0].string }
        return settings
    }

    /// Replaces the whole list of email domains (already validated and lower-cased).
    static func replaceDomains(_ db: SQLiteConnection, with domains: [String]) throws {
        try db.run("DELETE FROM email_domains")
        for domain in domains {
            try db.run("INSERT OR IGNORE INTO email_domains(domain) VALUES (?)", [.text(domain)])
        }
    }
}
